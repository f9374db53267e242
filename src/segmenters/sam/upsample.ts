import type { ModelFamily } from './onnx-layout.js';
import { SAM_INPUT_SIZE, preprocessShape } from './preprocess.js';

/** Side of the decoder's low-resolution mask logits. */
export const LOW_RES = 256;

/**
 * The official SAM ONNX decoder turns its 256² low-res logits into `masks` at
 * `orig_im_size` by: bilinear 256→1024 (half-pixel, no antialias), slicing to
 * the pre-padded size, bilinear to the original size. Both steps are linear, so
 * each output pixel is a fixed weighted sum of at most 4×4 low-res logits. We
 * precompute those taps per axis once per crop size and evaluate the logits only
 * where they matter, instead of asking the model for millions of full-size
 * values per prompt. `test/segmenters/sam-upsample.test.ts` checks this against
 * the model's own `masks` output.
 */
export interface AxisTaps {
  readonly size: number;
  /** 4 low-res indices per output index (repeats allowed). */
  readonly index: Int32Array;
  /** Matching weights (sum to 1). */
  readonly weight: Float64Array;
  /** Smallest / largest low-res index used by each output index (non-decreasing). */
  readonly lowest: Int32Array;
  readonly highest: Int32Array;
}

function halfPixelSource(o: number, inSize: number, outSize: number): { i0: number; i1: number; f: number } {
  let s = (o + 0.5) * (inSize / outSize) - 0.5;
  if (s < 0) s = 0;
  let i0 = Math.floor(s);
  if (i0 > inSize - 1) i0 = inSize - 1;
  const i1 = Math.min(i0 + 1, inSize - 1);
  return { i0, i1, f: s - i0 };
}

/** Taps for one axis: output length `outSize`, pre-padded length `prepadded` (≤ 1024). */
export function axisTaps(outSize: number, prepadded: number): AxisTaps {
  const index = new Int32Array(outSize * 4);
  const weight = new Float64Array(outSize * 4);
  const lowest = new Int32Array(outSize);
  const highest = new Int32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const b = halfPixelSource(o, prepadded, outSize);
    const pairs: [number, number][] = [
      [b.i0, 1 - b.f],
      [b.i1, b.f],
    ];
    let t = 0;
    let lo = LOW_RES;
    let hi = -1;
    for (const [mid, wb] of pairs) {
      const a = halfPixelSource(mid, LOW_RES, SAM_INPUT_SIZE);
      index[o * 4 + t] = a.i0;
      weight[o * 4 + t++] = wb * (1 - a.f);
      index[o * 4 + t] = a.i1;
      weight[o * 4 + t++] = wb * a.f;
      lo = Math.min(lo, a.i0);
      hi = Math.max(hi, a.i1);
    }
    lowest[o] = lo;
    highest[o] = hi;
  }
  return { size: outSize, index, weight, lowest, highest };
}

export interface CropTaps {
  readonly width: number;
  readonly height: number;
  readonly x: AxisTaps;
  readonly y: AxisTaps;
}

/**
 * Taps for one axis of SAM 2's post-processing: one bilinear step 256 → `outSize`
 * (F.interpolate, align_corners=False, no antialias; SAM2Transforms.postprocess_masks).
 * The two taps are stored as four (the second of each pair with weight 0) so
 * that every path reads the same 4-tap layout as SAM 1's two-step taps.
 */
export function directAxisTaps(outSize: number): AxisTaps {
  const index = new Int32Array(outSize * 4);
  const weight = new Float64Array(outSize * 4);
  const lowest = new Int32Array(outSize);
  const highest = new Int32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const s = halfPixelSource(o, LOW_RES, outSize);
    index.set([s.i0, s.i0, s.i1, s.i1], o * 4);
    weight.set([1 - s.f, 0, s.f, 0], o * 4);
    lowest[o] = s.i0;
    highest[o] = s.i1;
  }
  return { size: outSize, index, weight, lowest, highest };
}

export function cropTaps(width: number, height: number, family: ModelFamily = 'sam1'): CropTaps {
  if (family === 'sam2') return { width, height, x: directAxisTaps(width), y: directAxisTaps(height) };
  const pre = preprocessShape(height, width);
  return { width, height, x: axisTaps(width, pre.width), y: axisTaps(height, pre.height) };
}

/** A rectangle of output pixels [x0, x0+w) × [y0, y0+h). */
export interface Window {
  readonly x0: number;
  readonly y0: number;
  readonly w: number;
  readonly h: number;
}

/**
 * Output pixels whose taps touch low-res indices in [lo, hi]: a contiguous
 * range because taps are monotone. Empty (length 0) when none do.
 */
export function outputRange(taps: AxisTaps, lo: number, hi: number): { start: number; length: number } {
  let start = 0;
  while (start < taps.size && taps.highest[start] < lo) start++;
  let end = taps.size - 1;
  while (end >= start && taps.lowest[end] > hi) end--;
  return { start, length: Math.max(0, end - start + 1) };
}

/**
 * Logits at full crop resolution over `win`, from the 256² low-res logits
 * (row-major, `lowRes[y·256 + x]`). Float64 and evaluated identically for a
 * pixel whatever window it is computed in, so every path counts the same pixels.
 */
export function upsampleWindow(lowRes: Float32Array, lowResStride: number, lowResX0: number, lowResY0: number, taps: CropTaps, win: Window): Float64Array {
  const out = new Float64Array(win.w * win.h);
  // Low-res rows that any output row of the window reads.
  const rowLo = taps.y.lowest[win.y0];
  const rowHi = taps.y.highest[win.y0 + win.h - 1];
  const rows = new Float64Array((rowHi - rowLo + 1) * win.w);
  for (let r = rowLo; r <= rowHi; r++) {
    const src = (r - lowResY0) * lowResStride - lowResX0;
    const dst = (r - rowLo) * win.w;
    for (let i = 0; i < win.w; i++) {
      const o = (win.x0 + i) * 4;
      const ix = taps.x.index;
      const wx = taps.x.weight;
      rows[dst + i] =
        wx[o] * lowRes[src + ix[o]] + wx[o + 1] * lowRes[src + ix[o + 1]] + wx[o + 2] * lowRes[src + ix[o + 2]] + wx[o + 3] * lowRes[src + ix[o + 3]];
    }
  }
  const iy = taps.y.index;
  const wy = taps.y.weight;
  for (let j = 0; j < win.h; j++) {
    const o = (win.y0 + j) * 4;
    const r0 = (iy[o] - rowLo) * win.w;
    const r1 = (iy[o + 1] - rowLo) * win.w;
    const r2 = (iy[o + 2] - rowLo) * win.w;
    const r3 = (iy[o + 3] - rowLo) * win.w;
    const w0 = wy[o];
    const w1 = wy[o + 1];
    const w2 = wy[o + 2];
    const w3 = wy[o + 3];
    const dst = j * win.w;
    for (let i = 0; i < win.w; i++) {
      out[dst + i] = w0 * rows[r0 + i] + w1 * rows[r1 + i] + w2 * rows[r2 + i] + w3 * rows[r3 + i];
    }
  }
  return out;
}
