import { SamstarError } from '../util/errors.js';
import { LruCache } from '../util/lru.js';
import type { Frame } from './frame.js';
import { boxDownsample, scaleNormalisedLog, type GreyImage } from './log-filter.js';
import { estimateNoise } from './noise.js';
import { computeScaleFeatures, SCALE_FEATURE_BOUNDS, SCALE_FEATURE_NAMES } from './scale-features.js';

/**
 * Frame features: cheap descriptors of a frame's grey image (0–255 after the
 * load-time percentile stretch), used as observations by the environments and
 * stored with policies (by name and version, so a policy never reads a vector
 * laid out differently from the one it learned on).
 *
 * Every feature is deterministic and finite. The fixed order is FEATURE_NAMES;
 * add a new version (LAYOUTS) whenever a definition, the order or the working
 * resolution changes, and keep the old ones computable: a policy is fed the
 * layout it was trained on.
 *
 * Where each group is computed (so a 1024² frame costs a few ms):
 *  - intensity (grey_*, otsu_*): a 1024-bin histogram of the full-resolution grey
 *    (every row up to 2^17 pixels, evenly strided rows beyond); percentiles
 *    interpolate inside a bin, moments use bin centres;
 *  - noise: Immerkær's 3×3 operator at full resolution (noise must not be
 *    averaged away first), on the same row sampling;
 *  - gradient and blob (gradient_*, log_*, blob_*): on the "working image", the
 *    grey box-averaged by f = ceil(longest side / 256) (f = 1 up to 256 px).
 *    Lengths (σ, blob scales) are in full-resolution pixels and gradients per
 *    full-resolution pixel, but the working image carries the blur of its f×f box
 *    (σ ≈ 0.29·f px): scales finer than that are measured at that blur (σ = 1 px
 *    reads as ≈ 1.15 px on a 1024² frame).

 * Names and definitions (grey levels are 0–255):
 *  grey_p01 … grey_p99    intensity percentiles 1, 5, 25, 50, 75, 95, 99
 *  grey_mean, grey_std    mean and standard deviation
 *  grey_skewness          third standardised moment (0 for a constant image)
 *  grey_kurtosis          excess kurtosis (0 for a constant image)
 *  grey_bimodality        Sarle's bimodality coefficient (skew² + 1)/(kurtosis + 3), in [0, 1]; > 5/9 hints at two modes
 *  otsu_threshold         Otsu's threshold (grey level)
 *  otsu_separability      between-class / total variance at Otsu's threshold, in [0, 1] (1 = two spikes)
 *  otsu_fraction          fraction of pixels above Otsu's threshold
 *  noise_sigma            Immerkær (1996): √(π/2)·mean|N∗I| / 6, N = [1 −2 1; −2 4 −2; 1 −2 1]
 *  noise_mad              robust variant: 1.4826·median|N∗I| / 6 (edges inflate it less)
 *  gradient_mean          mean |∇I| (central differences), grey levels per px
 *  gradient_energy        mean |∇I|², (grey levels per px)²
 *  log_{bright|dark}_{max|p99}_s{σ}   scale-normalised LoG σ²∇²(G_σ∗I) at σ = 1, 2, 4, 8, 16 px:
 *                         bright = −response (bright blobs on dark), dark = +response; max and 99th percentile
 *  blob_scale_bright      σ (px) where the bright p99 response peaks over the scales (parabolic in log σ); 0 when
 *                         there is no bright blob response. A disc of radius r peaks near σ = r/√2.
 *  blob_scale_dark        the same for dark blobs
 *  blob_polarity          (Σ bright p99 − Σ dark p99) / (Σ bright p99 + Σ dark p99) over the scales, in [−1, 1]
 */
export const FEATURE_VERSION_V1 = 'samstar-frame-features-v1';
/** Version 2: version 1's features, unchanged and in the same order, then the scale features (scale-features.ts). */
export const FEATURE_VERSION_V2 = 'samstar-frame-features-v2';

export const FEATURE_SIGMAS: readonly number[] = [1, 2, 4, 8, 16];
const PERCENTILES = [1, 5, 25, 50, 75, 95, 99] as const;

const LOG_NAMES = FEATURE_SIGMAS.flatMap((s) => [`log_bright_max_s${s}`, `log_bright_p99_s${s}`, `log_dark_max_s${s}`, `log_dark_p99_s${s}`]);

const V1_NAMES: readonly string[] = [
  ...PERCENTILES.map((p) => `grey_p${String(p).padStart(2, '0')}`),
  'grey_mean',
  'grey_std',
  'grey_skewness',
  'grey_kurtosis',
  'grey_bimodality',
  'otsu_threshold',
  'otsu_separability',
  'otsu_fraction',
  'noise_sigma',
  'noise_mad',
  'gradient_mean',
  'gradient_energy',
  ...LOG_NAMES,
  'blob_scale_bright',
  'blob_scale_dark',
  'blob_polarity',
];

const V1_BOUNDS: readonly (readonly [number, number])[] = V1_NAMES.map((name): readonly [number, number] => {
  if (name.startsWith('grey_p') || name === 'grey_mean' || name === 'otsu_threshold') return [0, 255];
  if (name === 'grey_std') return [0, 255];
  if (name === 'grey_kurtosis') return [-2, Infinity];
  if (name === 'grey_bimodality' || name === 'otsu_separability' || name === 'otsu_fraction') return [0, 1];
  if (name.startsWith('noise_') || name.startsWith('gradient_')) return [0, Infinity];
  if (name.startsWith('blob_scale_')) return [0, FEATURE_SIGMAS[FEATURE_SIGMAS.length - 1]];
  if (name === 'blob_polarity') return [-1, 1];
  return [-Infinity, Infinity];
});

/** Every feature layout this build computes, by version: policies trained on an older one keep deploying. */
const LAYOUTS: Readonly<Record<string, { readonly names: readonly string[]; readonly bounds: readonly (readonly [number, number])[] }>> = {
  [FEATURE_VERSION_V1]: { names: V1_NAMES, bounds: V1_BOUNDS },
  [FEATURE_VERSION_V2]: { names: [...V1_NAMES, ...SCALE_FEATURE_NAMES], bounds: [...V1_BOUNDS, ...SCALE_FEATURE_BOUNDS] },
};

/** The layout new environments and policies use. */
export const FEATURE_VERSION: string = FEATURE_VERSION_V2;
export const FEATURE_NAMES: readonly string[] = LAYOUTS[FEATURE_VERSION].names;
/** Bounds every feature is guaranteed to respect (for the observation space). */
export const FEATURE_BOUNDS: readonly (readonly [number, number])[] = LAYOUTS[FEATURE_VERSION].bounds;

/** The versions this build can compute (oldest first). */
export const FEATURE_VERSIONS: readonly string[] = Object.keys(LAYOUTS);

/** The names of a feature version, or undefined when this build does not know it. */
export function featureNamesOf(version: string): readonly string[] | undefined {
  return Object.prototype.hasOwnProperty.call(LAYOUTS, version) ? LAYOUTS[version].names : undefined;
}

/** What a policy stores to know which features it was trained on. */
export interface FeatureSpec {
  readonly version: string;
  readonly names: readonly string[];
}

export function featureSpec(version: string = FEATURE_VERSION): FeatureSpec {
  return { version, names: [...layout(version).names] };
}

function layout(version: string): (typeof LAYOUTS)[string] {
  const found = featureNamesOf(version);
  if (!found) throw new SamstarError('CONFIG_INVALID', `unknown frame-feature version "${version}" (this samstar computes ${FEATURE_VERSIONS.join(', ')})`, { hint: 'use the samstar version the policy was trained with, or train it again' });
  return LAYOUTS[version];
}

/** Longest side of the working image for the gradient and blob features. */
export const WORKING_SIZE = 256;
const HIST_BINS = 1024;
/** At most this many pixels (rows evenly strided) feed the histogram and the noise operator. */
const SAMPLE_PIXELS = 1 << 17;

const cache = new LruCache<Float64Array>(4096, () => 1);

/**
 * The feature vector of a frame, in FEATURE_NAMES order. Cached per frame hash
 * (the returned array is shared: copy it before changing it).
 */
export function frameFeatures(frame: Frame, version: string = FEATURE_VERSION): Float64Array {
  const key = `${version}|${frame.hash}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const features = computeFeatures({ data: frame.grey, width: frame.width, height: frame.height }, version);
  cache.set(key, features);
  return features;
}

/** The features as a name → value record. */
export function frameFeatureRecord(frame: Frame): Record<string, number> {
  const v = frameFeatures(frame);
  const out: Record<string, number> = {};
  FEATURE_NAMES.forEach((n, i) => (out[n] = v[i]));
  return out;
}

/** Features of a grey image (0–255) without the cache, in the layout of `version`. */
export function computeFeatures(image: GreyImage, version: string = FEATURE_VERSION): Float64Array {
  layout(version);
  const out: number[] = [];
  const { hist, n } = histogram(image);
  for (const p of PERCENTILES) out.push(histogramPercentile(hist, n, p));
  const m = histogramMoments(hist, n);
  out.push(m.mean, m.std, m.skewness, m.kurtosis, clamp((m.skewness * m.skewness + 1) / (m.kurtosis + 3), 0, 1));
  const otsu = otsuFromHistogram(hist, n, m.mean, m.std * m.std);
  out.push(otsu.threshold, otsu.separability, otsu.fraction);
  const noise = estimateNoise(image.data, image.width, image.height, SAMPLE_PIXELS);
  out.push(noise.sigma, noise.mad);

  const factor = Math.max(1, Math.ceil(Math.max(image.width, image.height) / WORKING_SIZE));
  const working = boxDownsample(image, factor);
  const gradient = gradientStats(working);
  out.push(gradient.mean / factor, gradient.energy / (factor * factor));

  // σ in working pixels; the f×f box average already blurred by (f² − 1)/12 px² = (1 − 1/f²)/12 working px².
  const prior = (1 - 1 / (factor * factor)) / 12;
  const responses = scaleNormalisedLog(working, FEATURE_SIGMAS.map((s) => s / factor), prior);
  const brightP99: number[] = [];
  const darkP99: number[] = [];
  for (const r of responses) {
    const s = responseStats(r.response.data);
    out.push(s.brightMax, s.brightP99, s.darkMax, s.darkP99);
    brightP99.push(s.brightP99);
    darkP99.push(s.darkP99);
  }
  out.push(peakScale(brightP99), peakScale(darkP99));
  const b = brightP99.reduce((a, v) => a + Math.max(0, v), 0);
  const d = darkP99.reduce((a, v) => a + Math.max(0, v), 0);
  out.push(b + d > 1e-9 ? clamp((b - d) / (b + d), -1, 1) : 0);
  if (version === FEATURE_VERSION_V2) out.push(...computeScaleFeatures(image, noise.sigma));
  return Float64Array.from(out, (v) => (Number.isFinite(v) ? v : 0));
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * 1024 bins over [0, 256): bin b holds grey in [b/4, (b+1)/4); 255 lands in the
 * last bin. Every row up to SAMPLE_PIXELS pixels, evenly strided rows beyond.
 */
function histogram(image: GreyImage): { hist: Float64Array; n: number } {
  const { data, width, height } = image;
  const counts = new Uint32Array(HIST_BINS);
  const scale = HIST_BINS / 256;
  const stride = Math.max(1, Math.floor((width * height) / SAMPLE_PIXELS));
  let n = 0;
  for (let y = 0; y < height; y += stride) {
    const end = (y + 1) * width;
    for (let i = y * width; i < end; i++) {
      let b = (data[i] * scale) | 0;
      if (b < 0) b = 0;
      else if (b >= HIST_BINS) b = HIST_BINS - 1;
      counts[b]++;
    }
    n += width;
  }
  return { hist: Float64Array.from(counts), n };
}

function histogramPercentile(hist: Float64Array, n: number, percent: number): number {
  if (n === 0) return 0;
  const rank = (percent / 100) * n;
  let cumulative = 0;
  const width = 256 / HIST_BINS;
  for (let b = 0; b < HIST_BINS; b++) {
    const c = hist[b];
    if (c > 0 && cumulative + c >= rank) return clamp((b + (rank - cumulative) / c) * width, 0, 255);
    cumulative += c;
  }
  return 255;
}

function histogramMoments(hist: Float64Array, n: number): { mean: number; std: number; skewness: number; kurtosis: number } {
  const width = 256 / HIST_BINS;
  let s1 = 0;
  for (let b = 0; b < HIST_BINS; b++) s1 += hist[b] * (b + 0.5) * width;
  const mean = n ? s1 / n : 0;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (let b = 0; b < HIST_BINS; b++) {
    if (hist[b] === 0) continue;
    const d = (b + 0.5) * width - mean;
    const d2 = d * d;
    m2 += hist[b] * d2;
    m3 += hist[b] * d2 * d;
    m4 += hist[b] * d2 * d2;
  }
  m2 /= n || 1;
  m3 /= n || 1;
  m4 /= n || 1;
  // Below ~1/100 of a bin the spread is quantisation, not shape.
  if (m2 < 1e-6) return { mean: clamp(mean, 0, 255), std: 0, skewness: 0, kurtosis: 0 };
  return { mean: clamp(mean, 0, 255), std: Math.sqrt(m2), skewness: m3 / m2 ** 1.5, kurtosis: Math.max(-2, m4 / (m2 * m2) - 3) };
}

function otsuFromHistogram(hist: Float64Array, n: number, mean: number, variance: number): { threshold: number; separability: number; fraction: number } {
  const width = 256 / HIST_BINS;
  let w0 = 0;
  let sum0 = 0;
  let best = -1;
  let bestBin = 0;
  const total = mean * n;
  for (let b = 0; b < HIST_BINS - 1; b++) {
    w0 += hist[b];
    sum0 += hist[b] * (b + 0.5) * width;
    const w1 = n - w0;
    if (w0 === 0 || w1 === 0) continue;
    const mu0 = sum0 / w0;
    const mu1 = (total - sum0) / w1;
    const between = (w0 / n) * (w1 / n) * (mu0 - mu1) ** 2;
    if (between > best) {
      best = between;
      bestBin = b;
    }
  }
  if (best < 0) return { threshold: clamp(mean, 0, 255), separability: 0, fraction: 0 };
  let above = 0;
  for (let b = bestBin + 1; b < HIST_BINS; b++) above += hist[b];
  return {
    threshold: (bestBin + 1) * width,
    separability: variance > 1e-12 ? clamp(best / variance, 0, 1) : 0,
    fraction: above / n,
  };
}

function gradientStats(image: GreyImage): { mean: number; energy: number } {
  const { data, width: w, height: h } = image;
  let sum = 0;
  let energy = 0;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    const up = (y > 0 ? y - 1 : y) * w;
    const down = (y < h - 1 ? y + 1 : y) * w;
    const dyScale = y > 0 && y < h - 1 ? 0.5 : 1;
    for (let x = 0; x < w; x++) {
      const left = x > 0 ? x - 1 : x;
      const right = x < w - 1 ? x + 1 : x;
      const gx = (data[row + right] - data[row + left]) * (right - left === 2 ? 0.5 : 1);
      const gy = (data[down + x] - data[up + x]) * dyScale;
      const g2 = gx * gx + gy * gy;
      energy += g2;
      sum += Math.sqrt(g2);
    }
  }
  const n = w * h || 1;
  return { mean: sum / n, energy: energy / n };
}

/** Max and 99th percentile of −response (bright) and +response (dark), from one 2048-bin histogram. */
function responseStats(response: Float32Array): { brightMax: number; brightP99: number; darkMax: number; darkP99: number } {
  const n = response.length;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = response[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(hi > lo)) return { brightMax: -lo || 0, brightP99: -lo || 0, darkMax: hi || 0, darkP99: hi || 0 };
  const bins = 2048;
  const hist = new Int32Array(bins);
  const scale = (bins - 1e-9) / (hi - lo);
  for (let i = 0; i < n; i++) hist[((response[i] - lo) * scale) | 0]++;
  const rank = 0.01 * n;
  // 1st percentile from the low end, 99th from the high end (same rank from each side).
  let low = lo;
  let cumulative = 0;
  for (let b = 0; b < bins; b++) {
    const c = hist[b];
    if (c > 0 && cumulative + c >= rank) {
      low = lo + (b + (rank - cumulative) / c) / scale;
      break;
    }
    cumulative += c;
  }
  let high = hi;
  cumulative = 0;
  for (let b = bins - 1; b >= 0; b--) {
    const c = hist[b];
    if (c > 0 && cumulative + c >= rank) {
      high = lo + (b + 1 - (rank - cumulative) / c) / scale;
      break;
    }
    cumulative += c;
  }
  return { brightMax: -lo, brightP99: -low, darkMax: hi, darkP99: high };
}

/** σ where a response peaks over FEATURE_SIGMAS: parabolic interpolation in log2 σ; 0 when nothing responds. */
function peakScale(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  if (!(values[best] > 1e-6)) return 0;
  const logs = FEATURE_SIGMAS.map(Math.log2);
  let x = logs[best];
  if (best > 0 && best < values.length - 1) {
    const [a, b, c] = [values[best - 1], values[best], values[best + 1]];
    const denom = a - 2 * b + c;
    // Equal spacing in log2 σ (the sigmas double): offset in units of one step.
    if (denom < 0) x += clamp((0.5 * (a - c)) / denom, -0.5, 0.5) * (logs[best + 1] - logs[best]);
  }
  return clamp(2 ** x, FEATURE_SIGMAS[0], FEATURE_SIGMAS[FEATURE_SIGMAS.length - 1]);
}
