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
