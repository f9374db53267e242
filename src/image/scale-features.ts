import { boxDownsample, scaleNormalisedLog, type GreyImage, type LogResponse } from './log-filter.js';

/**
 * Scale features (frame features version 2): what a policy needs to choose a detector's σ range,
 * threshold and polarity on images of unknown magnification.
 *
 * All come from one scale-normalised LoG pyramid (log-filter.ts: each σ on the coarsest level
 * where it is ≥ 1 level pixel) of the "scale image", the grey box-averaged to a longest side of at
 * most SCALE_WORKING_SIZE. The ladder runs in √2 steps over 1–64 full-resolution px, so a particle
 * of diameter d (radius r) peaks near σ = r/√2 wherever it lies in 3 … 180 px.
 *
 *  scale_energy_s{σ}     99th percentile of |σ²∇²(G_σ∗I)| over the frame, divided by the frame's
 *                        noise σ (Immerkær, full resolution; floored at 0.5 grey levels), per σ:
 *                        the response profile. A particle population shows up as a bump at its scale.
 *  scale_dominant        the energy-weighted (response²) median σ (full-resolution px) of the
 *                        frame's blobs: the PEAKS strongest scale-space maxima of |σ²∇²(G_σ∗I)|
 *                        (3×3 spatial maxima that beat the 3×3 blocks of the neighbouring scales,
 *                        PEAK_Z noise standard deviations strong), one per particle (a maximum
 *                        inside a stronger one's disc of radius √2σ is its rim or surroundings),
 *                        each σ refined by a parabola through its three scales in log₂ σ.
 *                        On real micrographs it can still lock onto noise (σ ≈ 1 on noisy frames)
 *                        or onto large structures; the energy profile above is there beside it.
 *  scale_spread          energy-weighted interquartile range of those blobs' log₂ σ, in octaves (0–6)
 *  scale_polarity        (bright − dark) / (bright + dark) over those blobs, energy-weighted:
 *                        +1 bright particles on dark, −1 dark on bright
 *  texture_scale         σ (full-resolution px) where the median |response| peaks: the background's
 *                        texture (grain of a support, noise) rather than the sparse particles
 *
 * The dominant and texture scales are scale-equivariant (a frame enlarged 2× reports twice the σ,
 * within the ladder's interpolation); the energies are noise-relative, so they compare across
 * detectors and exposure times. Deterministic: no sampling, only the fixed pyramid.
 */
export const SCALE_SIGMAS: readonly number[] = Array.from({ length: 13 }, (_, k) => Math.round(2 ** (k / 2) * 100) / 100);
export const SCALE_WORKING_SIZE = 1024;
const NOISE_FLOOR = 0.5;
/** How many of the strongest scale-space maxima describe the particles. */
const PEAKS = 256;
/**
 * A maximum counts as a blob when its response exceeds this many standard deviations of the
 * response of the frame's noise at its scale (white noise of the frame's Immerkær σ). Blobs are
 * then ranked and weighted by their scale-normalised response (the particle's contrast), not by
 * that signal-to-noise ratio: uneven illumination and support texture have a high SNR at large σ
 * (noise averages out there) and would outvote the particles.
 */
const PEAK_Z = 5;

export const SCALE_FEATURE_NAMES: readonly string[] = [
  ...SCALE_SIGMAS.map((s) => `scale_energy_s${s}`),
  'scale_dominant',
  'scale_spread',
  'scale_polarity',
  'texture_scale',
];

export const SCALE_FEATURE_BOUNDS: readonly (readonly [number, number])[] = SCALE_FEATURE_NAMES.map((name): readonly [number, number] => {
  if (name.startsWith('scale_energy_')) return [0, Infinity];
  if (name === 'scale_dominant' || name === 'texture_scale') return [0, SCALE_SIGMAS[SCALE_SIGMAS.length - 1]];
  if (name === 'scale_spread') return [0, Math.log2(SCALE_SIGMAS[SCALE_SIGMAS.length - 1] / SCALE_SIGMAS[0])];
  return [-1, 1];
});

/** The scale features of a grey image (0–255), in SCALE_FEATURE_NAMES order; `noiseSigma` from the full-resolution image. */
export function computeScaleFeatures(image: GreyImage, noiseSigma: number): number[] {
  const factor = Math.max(1, Math.ceil(Math.max(image.width, image.height) / SCALE_WORKING_SIZE));
  const working = boxDownsample(image, factor);
  const prior = (1 - 1 / (factor * factor)) / 12;
  const responses = scaleNormalisedLog(working, SCALE_SIGMAS.map((s) => s / factor), prior);
  const noise = Math.max(NOISE_FLOOR, noiseSigma);
  const energy: number[] = [];
  const median: number[] = [];
  for (const r of responses) {
    const q = absQuantiles(r.response.data);
    energy.push(q.p99 / noise);
    median.push(q.p50);
  }
  // White noise of σn per pixel gives σ²∇²(G_σ∗n) a standard deviation of σn / (σ√(2π)) (σ in pixels of the same image).
  const floors = SCALE_SIGMAS.map((s) => (PEAK_Z * noise) / (s * Math.sqrt(2 * Math.PI)));
  const blobs = strongestBlobs(responses, floors, PEAKS, factor);
  // Weighted by energy (response²): a few strong particles outweigh many maxima of noise near the floor.
  const weighted = blobs.map((b) => ({ value: b.log2Sigma, weight: b.strength * b.strength })).sort((a, b) => a.value - b.value);
  const dominant = weighted.length ? 2 ** weightedQuantile(weighted, 0.5) : 0;
  const spread = weighted.length ? weightedQuantile(weighted, 0.75) - weightedQuantile(weighted, 0.25) : 0;
  let b = 0;
  let d = 0;
  for (const blob of blobs) {
    if (blob.bright) b += blob.strength * blob.strength;
    else d += blob.strength * blob.strength;
  }
  const polarity = b + d > 1e-9 ? clamp((b - d) / (b + d), -1, 1) : 0;
  const texturePeak = peakIndex(median);
  const texture = median[texturePeak] > 1e-9 ? interpolatedScale(median, texturePeak) : 0;
  const [lo, hi] = [SCALE_SIGMAS[0], SCALE_SIGMAS[SCALE_SIGMAS.length - 1]];
  const out = [...energy, dominant > 0 ? clamp(dominant, lo, hi) : 0, clamp(spread, 0, Math.log2(hi / lo)), polarity, texture];
  return out.map((v) => (Number.isFinite(v) ? v : 0));
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

function peakIndex(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** σ at a profile's peak: parabolic interpolation in log₂ σ (the ladder is evenly spaced there). */
function interpolatedScale(values: readonly number[], best: number): number {
  const step = 0.5;
  let x = Math.log2(SCALE_SIGMAS[0]) + best * step;
  if (best > 0 && best < values.length - 1) {
    const [a, b, c] = [values[best - 1], values[best], values[best + 1]];
    const denom = a - 2 * b + c;
    if (denom < 0) x += clamp((0.5 * (a - c)) / denom, -0.5, 0.5) * step;
  }
  return clamp(2 ** x, SCALE_SIGMAS[0], SCALE_SIGMAS[SCALE_SIGMAS.length - 1]);
}

interface ScaleBlob {
  readonly log2Sigma: number;
  readonly strength: number;
  readonly bright: boolean;
  /** Centre in working-image pixels. */
  readonly x: number;
  readonly y: number;
}

/**
 * The `count` strongest scale-space maxima of |response|: spatial 3×3 maxima on their level that
 * also beat the 3×3 blocks of the neighbouring scales around the same place (on those scales'
 * levels): the 26-neighbourhood of scale space, as a LoG blob detector has it. The
 * first and last scales only compete inwards. σ is refined by a parabola through the three scales.
 */
function strongestBlobs(responses: readonly LogResponse[], floors: readonly number[], count: number, factor: number): ScaleBlob[] {
  const found: ScaleBlob[] = [];
  // The largest |response| of scale k in the 3×3 block around the place (x, y) of `level`.
  const at = (k: number, level: number, x: number, y: number): number => {
    const r = responses[k];
    const f = 2 ** (level - r.level);
    const { width, height, data } = r.response;
    const cx = Math.floor((x + 0.5) * f);
    const cy = Math.floor((y + 0.5) * f);
    let best = 0;
    for (let yy = Math.max(0, cy - 1); yy <= Math.min(height - 1, cy + 1); yy++) {
      for (let xx = Math.max(0, cx - 1); xx <= Math.min(width - 1, cx + 1); xx++) best = Math.max(best, Math.abs(data[yy * width + xx]));
    }
    return best;
  };
  const step = 0.5;
  for (let k = 0; k < responses.length; k++) {
    const { level, response } = responses[k];
    const { data, width: w, height: h } = response;
    for (let y = 1; y < h - 1; y++) {
      for (let x = 1; x < w - 1; x++) {
        const i = y * w + x;
        const v = Math.abs(data[i]);
        if (!(v > floors[k])) continue;
        if (v < Math.abs(data[i - 1]) || v < Math.abs(data[i + 1]) || v < Math.abs(data[i - w]) || v < Math.abs(data[i + w])) continue;
        if (v < Math.abs(data[i - w - 1]) || v < Math.abs(data[i - w + 1]) || v < Math.abs(data[i + w - 1]) || v < Math.abs(data[i + w + 1])) continue;
        const below = k > 0 ? at(k - 1, level, x, y) : -Infinity;
        const above = k < responses.length - 1 ? at(k + 1, level, x, y) : -Infinity;
        if (v < below || v < above) continue;
        let offset = 0;
        if (Number.isFinite(below) && Number.isFinite(above)) {
          const denom = below - 2 * v + above;
          if (denom < 0) offset = clamp((0.5 * (below - above)) / denom, -0.5, 0.5);
        }
        const f = 2 ** level;
        found.push({ log2Sigma: (k + offset) * step, strength: v, bright: data[i] < 0, x: (x + 0.5) * f, y: (y + 0.5) * f });
      }
    }
  }
  // Strongest first; ties by scale, polarity and place, so that the selection never depends on sort stability.
  found.sort((a, b) => b.strength - a.strength || a.log2Sigma - b.log2Sigma || Number(a.bright) - Number(b.bright) || a.y - b.y || a.x - b.x);
  return suppressInsideStronger(found, count, factor);
}

/**
 * Greedy suppression, strongest first: a maximum inside the disc (radius √2σ) of a stronger kept
 * one, or holding a stronger kept one inside its own, is the same particle seen at another scale
 * (its rim at small σ, its surroundings at large σ) and is dropped. Stops after `count` kept.
 */
function suppressInsideStronger(sorted: readonly ScaleBlob[], count: number, factor: number): ScaleBlob[] {
  const kept: ScaleBlob[] = [];
  const radius = (b: ScaleBlob): number => (Math.SQRT2 * 2 ** b.log2Sigma) / factor;
  const cell = Math.max(1, radius(sorted.reduce((a, b) => (b.log2Sigma > a.log2Sigma ? b : a), sorted[0] ?? { log2Sigma: 0 } as ScaleBlob)));
  const grid = new Map<string, ScaleBlob[]>();
  for (const b of sorted) {
    if (kept.length >= count) break;
    const r = radius(b);
    const gx = Math.floor(b.x / cell);
    const gy = Math.floor(b.y / cell);
    let inside = false;
    for (let dy = -1; dy <= 1 && !inside; dy++) {
      for (let dx = -1; dx <= 1 && !inside; dx++) {
        for (const other of grid.get(`${gx + dx},${gy + dy}`) ?? []) {
          if (Math.hypot(other.x - b.x, other.y - b.y) < Math.max(r, radius(other))) {
            inside = true;
            break;
          }
        }
      }
    }
    if (inside) continue;
    kept.push(b);
    const key = `${gx},${gy}`;
    const list = grid.get(key);
    if (list) list.push(b);
    else grid.set(key, [b]);
  }
  return kept;
}

/** The value below which a fraction q of the total weight lies (values sorted ascending). */
function weightedQuantile(sorted: readonly { value: number; weight: number }[], q: number): number {
  const total = sorted.reduce((a, s) => a + s.weight, 0);
  if (!(total > 0)) return sorted[Math.floor((sorted.length - 1) / 2)].value;
  let cumulative = 0;
  for (const s of sorted) {
    cumulative += s.weight;
    if (cumulative >= q * total) return s.value;
  }
  return sorted[sorted.length - 1].value;
}

/** 99th percentile and median of |response|, from one 4096-bin histogram over [0, max |response|]. */
function absQuantiles(response: Float32Array): { p99: number; p50: number } {
  const n = response.length;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(response[i]);
    if (a > max) max = a;
  }
  if (!(max > 0)) return { p99: 0, p50: 0 };
  const bins = 4096;
  const scale = (bins - 1e-9) / max;
  const hist = new Int32Array(bins);
  for (let i = 0; i < n; i++) hist[(Math.abs(response[i]) * scale) | 0]++;
  return { p99: quantileFromTop(hist, 0.01 * n) / scale, p50: quantileFromTop(hist, 0.5 * n) / scale };
}

/** The value (in bins) below which all but `rank` counts lie, interpolated inside a bin. */
function quantileFromTop(hist: Int32Array, rank: number): number {
  let cumulative = 0;
  for (let b = hist.length - 1; b >= 0; b--) {
    const c = hist[b];
    if (c > 0 && cumulative + c >= rank) return b + 1 - (rank - cumulative) / c;
    cumulative += c;
  }
  return 0;
}
