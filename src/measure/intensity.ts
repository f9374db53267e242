import { FIRST_CLAIM, type InstanceCrop } from './types.js';
import { Scratch } from './scratch.js';

/**
 * Intensity measurements of one instance on the frame's `grey` (0–255):
 * - mean inside (skimage `mean_intensity`);
 * - mean of the ring just outside: pixels within `ringWidth` (Chebyshev distance, i.e. a square
 *   dilation) of the instance, not in it, and claimed by no mask. Touching neighbours would
 *   otherwise pull the "outside" towards the inside; when every ring pixel belongs to some other
 *   mask, all non-instance ring pixels are used; with no ring at all (the instance fills the
 *   image) the ring mean is the inside mean, so the contrast is 0;
 * - mean gradient magnitude on the inner boundary pixels: Sobel, divided by 8 so that a ramp of
 *   slope s grey levels per pixel reads s; image edges are replicated.
 * The dilation is computed only in the instance's box grown by the ring width (two running-window
 * passes), so the cost is proportional to the box, not to the frame.
 */
export interface IntensityStats {
  mean: number;
  ringMean: number;
  boundaryGradient: number;
  /**
   * Pixels on the foreground side of the threshold (when one is given) that this instance claims
   * first: summed over instances, the foreground covered by the union of the masks.
   */
  foregroundPixels: number;
}

export interface IntensityContext {
  readonly grey: Float32Array;
  readonly width: number;
  readonly height: number;
  /** Non-zero where some mask claims the pixel. */
  readonly claims: ArrayLike<number>;
  readonly ringWidth: number;
  /** Skip the ring (ringMean is then NaN and not reported). */
  readonly ring: boolean;
  /** Foreground is grey ≥ threshold (bright) or grey < threshold (dark); null: do not count. */
  readonly foreground: { readonly threshold: number; readonly bright: boolean } | null;
}

const scratch = new Scratch();

export function intensityOf(crop: InstanceCrop, boundary: Int32Array, ctx: IntensityContext): IntensityStats {
  const { grey, width, height } = ctx;
  const { rows, cols, data, row0, col0 } = crop;
  const stride = cols + 2;

  let sum = 0;
  let fgCount = 0;
  const fg = ctx.foreground;
  for (let r = 0; r < rows; r++) {
    const base = (r + 1) * stride + 1;
    const g = (row0 + r) * width + col0;
    for (let c = 0; c < cols; c++) {
      const k = data[base + c];
      if (!k) continue;
      const v = grey[g + c];
      sum += v;
      if (k === FIRST_CLAIM && fg && (v >= fg.threshold) === fg.bright) fgCount++;
    }
  }
  const mean = sum / crop.area;

  let gradientSum = 0;
  // Crop index i = (r + 1)·stride + c + 1 maps to frame index p = i + offset + r·(width − stride).
  const offset = row0 * width + col0 - stride - 1 - (width - stride);
  for (let k = 0; k < boundary.length; k++) {
    const i = boundary[k];
    const r = ((i / stride) | 0) - 1;
    const x = col0 + i - (r + 1) * stride - 1;
    const y = row0 + r;
    if (x === 0 || y === 0 || x === width - 1 || y === height - 1) {
      gradientSum += sobel(grey, width, height, x, y);
      continue;
    }
    // Interior pixel: the 3×3 neighbourhood without clamping (the common case, kept inline).
    const p = i + offset + (r + 1) * (width - stride);
    const a = grey[p - width - 1], b = grey[p - width], c = grey[p - width + 1];
    const d = grey[p - 1], f = grey[p + 1];
    const g = grey[p + width - 1], h = grey[p + width], q = grey[p + width + 1];
    const gx = c + 2 * f + q - (a + 2 * d + g);
    const gy = g + 2 * h + q - (a + 2 * b + c);
    gradientSum += Math.sqrt(gx * gx + gy * gy) / 8;
  }
  const boundaryGradient = boundary.length > 0 ? gradientSum / boundary.length : 0;

  return { mean, ringMean: ctx.ring ? ringMean(crop, ctx, mean) : Number.NaN, boundaryGradient, foregroundPixels: fgCount };
}

/** Sobel gradient magnitude / 8 at (x, y), replicating the image edge. */
export function sobel(grey: Float32Array, width: number, height: number, x: number, y: number): number {
  const xm = x > 0 ? x - 1 : 0, xp = x < width - 1 ? x + 1 : x;
  const ym = y > 0 ? y - 1 : 0, yp = y < height - 1 ? y + 1 : y;
  const rm = ym * width, r0 = y * width, rp = yp * width;
  const a = grey[rm + xm], b = grey[rm + x], c = grey[rm + xp];
  const d = grey[r0 + xm], f = grey[r0 + xp];
  const g = grey[rp + xm], h = grey[rp + x], k = grey[rp + xp];
  const gx = c + 2 * f + k - (a + 2 * d + g);
  const gy = g + 2 * h + k - (a + 2 * b + c);
  return Math.sqrt(gx * gx + gy * gy) / 8;
}

function ringMean(crop: InstanceCrop, ctx: IntensityContext, insideMean: number): number {
  const w = ctx.ringWidth;
  const { rows, cols, data, row0, col0 } = crop;
  const stride = cols + 2;
  const wRows = rows + 2 * w;
  const wCols = cols + 2 * w;
  // Horizontal pass: h[wr][wc] = some instance pixel in crop row wr − w within crop columns
  // wc − 2w … wc (window column wc is crop column wc − w).
  const h = scratch.bytes(wRows * wCols);
  for (let r = 0; r < rows; r++) {
    const base = (r + 1) * stride + 1;
    const out = (r + w) * wCols;
    let last = -0x3fffffff;
    for (let wc = 0; wc < wCols; wc++) {
      if (wc < cols && data[base + wc]) last = wc;
      if (last >= wc - 2 * w) h[out + wc] = 1;
    }
  }
  // Vertical pass, row by row, fused with the accumulation: (wr, wc) is in the dilation when some
  // h row in wr − w … wr + w is set in column wc; `lastRow[wc]` is the latest such row seen.
  const lastRow = scratch.ints(wCols).fill(-0x3fffffff);
  const { grey, width, height, claims } = ctx;
  const wrStart = Math.max(0, w - row0), wrEnd = Math.min(wRows, height - row0 + w);
  const wcStart = Math.max(0, w - col0), wcEnd = Math.min(wCols, width - col0 + w);
  let sumFree = 0, countFree = 0, sumAll = 0, countAll = 0;
  for (let wr = 0; wr < wRows; wr++) {
    const ahead = wr + w;
    if (ahead < wRows) {
      const hRow = ahead * wCols;
      for (let wc = 0; wc < wCols; wc++) if (h[hRow + wc]) lastRow[wc] = ahead;
    }
    if (wr < wrStart || wr >= wrEnd) continue;
    const r = wr - w; // crop row, may be outside the box
    const insideRow = r >= 0 && r < rows ? (r + 1) * stride + 1 - w : -1;
    const g = (row0 + r) * width + col0 - w;
    for (let wc = wcStart; wc < wcEnd; wc++) {
      if (lastRow[wc] < wr - w) continue;
      if (insideRow >= 0 && wc >= w && wc < w + cols && data[insideRow + wc]) continue;
      const v = grey[g + wc];
      sumAll += v;
      countAll++;
      if (claims[g + wc] === 0) {
        sumFree += v;
        countFree++;
      }
    }
  }
  if (countFree > 0) return sumFree / countFree;
  if (countAll > 0) return sumAll / countAll;
  return insideMean;
}
