import type { BinaryMask, Rle } from './types.js';

/** COCO run-length encoding of a row-major mask (runs walk the columns: column-major order). */
export function encodeRle(mask: BinaryMask): Rle {
  const { width, height, data } = mask;
  const counts: number[] = [];
  let current = 0;
  let run = 0;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      const v = data[y * width + x] ? 1 : 0;
      if (v !== current) {
        counts.push(run);
        run = 0;
        current = v;
      }
      run++;
    }
  }
  counts.push(run);
  return { size: [height, width], counts };
}

/** Inverse of `encodeRle`. */
export function decodeRle(rle: Rle): BinaryMask {
  const [height, width] = rle.size;
  const data = new Uint8Array(width * height);
  let position = 0;
  let value = 0;
  for (const run of rle.counts) {
    if (value === 1) {
      for (let k = position; k < position + run; k++) {
        const x = Math.floor(k / height);
        const y = k - x * height;
        data[y * width + x] = 1;
      }
    }
    position += run;
    value ^= 1;
  }
  return { width, height, data };
}

/** Foreground pixel count of an RLE (sum of the odd runs). */
export function rleArea(rle: Rle): number {
  let area = 0;
  for (let i = 1; i < rle.counts.length; i += 2) area += rle.counts[i];
  return area;
}

/**
 * COCO RLE of a full width×height image whose mask is known on a window only
 * (everything outside is background): costs the window, not the image.
 */
export function encodeRleWindow(
  data: Uint8Array,
  window: { x0: number; y0: number; w: number; h: number },
  width: number,
  height: number,
): Rle {
  const counts: number[] = [];
  let previousEnd = 0;
  let openStart = -1;
  let openEnd = -1;
  const flush = (): void => {
    if (openStart < 0) return;
    counts.push(openStart - previousEnd, openEnd - openStart);
    previousEnd = openEnd;
    openStart = -1;
  };
  const addRun = (start: number, end: number): void => {
    // Runs that end at the bottom of a column and restart at the top of the next one merge.
    if (openStart >= 0 && start === openEnd) {
      openEnd = end;
      return;
    }
    flush();
    openStart = start;
    openEnd = end;
  };
  for (let i = 0; i < window.w; i++) {
    const column = (window.x0 + i) * height + window.y0;
    let runStart = -1;
    for (let j = 0; j < window.h; j++) {
      const on = data[j * window.w + i] !== 0;
      if (on && runStart < 0) runStart = j;
      if (!on && runStart >= 0) {
        addRun(column + runStart, column + j);
        runStart = -1;
      }
    }
    if (runStart >= 0) addRun(column + runStart, column + window.h);
  }
  flush();
  // Like SAM's mask_to_rle: the last run is whatever the image ends with (no trailing empty run).
  if (counts.length === 0 || width * height - previousEnd > 0) counts.push(width * height - previousEnd);
  return { size: [height, width], counts };
}
