import { sobel } from './intensity.js';

/**
 * Whole-frame statistics that several measurements and reward terms need: the grey histogram
 * (Otsu threshold, percentiles) and the gradient-magnitude histogram (edge reference).
 *
 * They depend only on the image, and a tuning run scores the same frame hundreds of times with
 * different knobs, so they are memoised per `grey` array (a WeakMap: they go away with the
 * frame). The functions stay pure from the caller's point of view.
 */
interface GreyHistogram {
  /** 256 bins of width 1 over [0, 256); bin k holds grey values in [k, k + 1) (255 also holds 256). */
  readonly counts: Float64Array;
  readonly total: number;
}

const greyCache = new WeakMap<Float32Array, GreyHistogram>();
const gradientCache = new WeakMap<Float32Array, Float64Array>();

function greyHistogram(grey: Float32Array): GreyHistogram {
  let cached = greyCache.get(grey);
  if (cached) return cached;
  const counts = new Float64Array(256);
  for (let p = 0; p < grey.length; p++) {
    const v = grey[p];
    // NaN and out-of-range values are clamped into the end bins rather than dropped.
    const k = v >= 255 ? 255 : v > 0 ? v | 0 : 0;
    counts[k]++;
  }
  cached = { counts, total: grey.length };
  greyCache.set(grey, cached);
  return cached;
}

/**
 * Otsu's threshold on the 256-bin grey histogram, as a grey value T: the two classes are
 * grey < T and grey ≥ T (T is a bin edge, so the class sizes are exact histogram sums).
 */
export function otsuThreshold(grey: Float32Array): number {
  const { counts, total } = greyHistogram(grey);
  let sumAll = 0;
  for (let k = 0; k < 256; k++) sumAll += k * counts[k];
  let weightLow = 0, sumLow = 0, best = -1, bestK = 0;
  for (let k = 0; k < 255; k++) {
    weightLow += counts[k];
    sumLow += k * counts[k];
    const weightHigh = total - weightLow;
    if (weightLow === 0 || weightHigh === 0) continue;
    const meanLow = sumLow / weightLow;
    const meanHigh = (sumAll - sumLow) / weightHigh;
    const between = weightLow * weightHigh * (meanLow - meanHigh) ** 2;
    if (between > best) {
      best = between;
      bestK = k;
    }
  }
  return bestK + 1;
}

/** Number of pixels with grey ≥ threshold (exact for integer thresholds; one pass otherwise). */
export function countAtLeast(grey: Float32Array, threshold: number): number {
  if (Number.isInteger(threshold) && threshold >= 0 && threshold <= 256) {
    const { counts } = greyHistogram(grey);
    let n = 0;
    for (let k = threshold; k < 256; k++) n += counts[k];
    // Values of exactly 256 or more are in bin 255 and are ≥ any threshold ≤ 255 anyway.
    return n;
  }
  let n = 0;
  for (let p = 0; p < grey.length; p++) if (grey[p] >= threshold) n++;
  return n;
}

/** Grey value at quantile q (0–1), to bin resolution (1 grey level). */
export function greyQuantile(grey: Float32Array, q: number): number {
  const { counts, total } = greyHistogram(grey);
  return histogramQuantile(counts, total, q, 1);
}

const GRADIENT_BIN = 0.125;
const GRADIENT_BINS = Math.ceil(200 / GRADIENT_BIN); // Sobel/8 of 0–255 data is at most 255·√2/2 ≈ 180

function gradientHistogram(grey: Float32Array, width: number, height: number): Float64Array {
  let counts = gradientCache.get(grey);
  if (counts) return counts;
  counts = new Float64Array(GRADIENT_BINS);
  // Interior pixels inline (the hot loop); the one-pixel rim through the edge-replicating helper.
  for (let y = 1; y < height - 1; y++) {
    let p = y * width + 1;
    for (let x = 1; x < width - 1; x++, p++) {
      const a = grey[p - width - 1], b = grey[p - width], c = grey[p - width + 1];
      const d = grey[p - 1], f = grey[p + 1];
      const g = grey[p + width - 1], h = grey[p + width], k = grey[p + width + 1];
      const gx = c + 2 * f + k - (a + 2 * d + g);
      const gy = g + 2 * h + k - (a + 2 * b + c);
      const m = Math.sqrt(gx * gx + gy * gy) / 8;
      counts[Math.min(GRADIENT_BINS - 1, (m / GRADIENT_BIN) | 0)]++;
    }
  }
  const rim = (x: number, y: number): void => {
    counts![Math.min(GRADIENT_BINS - 1, (sobel(grey, width, height, x, y) / GRADIENT_BIN) | 0)]++;
  };
  for (let x = 0; x < width; x++) {
    rim(x, 0);
    if (height > 1) rim(x, height - 1);
  }
  for (let y = 1; y < height - 1; y++) {
    rim(0, y);
    if (width > 1) rim(width - 1, y);
  }
  gradientCache.set(grey, counts);
  return counts;
}

/** Gradient magnitude (Sobel / 8, as `boundary_gradient`) at quantile q over the whole frame. */
export function gradientQuantile(frame: { grey: Float32Array; width: number; height: number }, q: number): number {
  const counts = gradientHistogram(frame.grey, frame.width, frame.height);
  return histogramQuantile(counts, frame.width * frame.height, q, GRADIENT_BIN);
}

/** Linear interpolation inside the bin where the cumulative count crosses q·total. */
function histogramQuantile(counts: Float64Array, total: number, q: number, binWidth: number): number {
  const target = Math.min(1, Math.max(0, q)) * total;
  let cumulative = 0;
  for (let k = 0; k < counts.length; k++) {
    const next = cumulative + counts[k];
    if (next >= target && counts[k] > 0) {
      return (k + (target - cumulative) / counts[k]) * binWidth;
    }
    cumulative = next;
  }
  return counts.length * binWidth;
}
