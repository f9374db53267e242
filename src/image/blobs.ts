import { scaleNormalisedLog as pyramidLog, upsampleLevel } from './log-filter.js';
import { estimateNoiseSigma } from './noise.js';

/**
 * Blob detection with the scale-normalised Laplacian of Gaussian (Lindeberg):
 * σ²·∇²(G_σ * I) over log-spaced σ, peaks in space and scale, then greedy
 * suppression of overlapping blobs by response. A bright disk of radius r
 * answers most strongly at σ = r/√2, so radius = √2·σ.
 *
 * This is the LoG finder that earlier reward-driven microscopy work tuned with
 * physics rewards; samstar uses it to place SAM prompts where particles are
 * and as a weight-free segmenter of its own.
 */
export type BlobPolarity = 'bright' | 'dark' | 'both';

export interface BlobOptions {
  /** Smallest and largest Gaussian σ in pixels, and how many log-spaced scales between them (inclusive). */
  readonly sigmaMin: number;
  readonly sigmaMax: number;
  readonly sigmaSteps: number;
  /** Minimum scale-normalised response: grey levels (0–255), or multiples of the noise σ when thresholdMode is 'noise'. */
  readonly threshold: number;
  readonly thresholdMode: 'absolute' | 'noise';
  /** Two blobs overlapping by more than this fraction of the smaller one's area: the weaker goes. */
  readonly overlap: number;
  readonly polarity: BlobPolarity;
  /** Blobs whose centre is closer than this to the image edge are dropped. */
  readonly border: number;
}

export const DEFAULT_BLOB_OPTIONS: BlobOptions = {
  sigmaMin: 1.5,
  sigmaMax: 8,
  sigmaSteps: 8,
  threshold: 4,
  thresholdMode: 'noise',
  overlap: 0.5,
  polarity: 'bright',
  border: 0,
};

export interface Blob {
  readonly x: number;
  readonly y: number;
  readonly sigma: number;
  /** √2·σ: the radius of the disk this scale answers best. */
  readonly radius: number;
  /** Scale-normalised LoG response (grey levels), positive for the blob's polarity. */
  readonly response: number;
  readonly polarity: 'bright' | 'dark';
}

export function blobSigmas(options: Pick<BlobOptions, 'sigmaMin' | 'sigmaMax' | 'sigmaSteps'>): number[] {
  const { sigmaMin, sigmaMax, sigmaSteps } = options;
  if (sigmaSteps <= 1 || sigmaMax <= sigmaMin) return [sigmaMin];
  const ratio = Math.log(sigmaMax / sigmaMin) / (sigmaSteps - 1);
  return Array.from({ length: sigmaSteps }, (_, i) => sigmaMin * Math.exp(ratio * i));
}

/** The smallest σ, in pyramid-level pixels, a blob layer is measured at (see `scaleNormalisedLog`). */
export const BLOB_LEVEL_SIGMA = 4;

/**
 * σ²·∇²(G_σ * I) on the image's own pixel grid, with the 5-point Laplacian. σ < 8 px is measured at
 * full resolution; a larger σ on the coarsest 2× pyramid level where it still spans ≥ 4 level pixels
 * (log-filter.ts: box-averaged levels, their own blur taken off the Gaussian), then interpolated
 * back bilinearly. The response is dimensionless in space, so a blob answers the same on either
 * grid, and a Gaussian that wide has little detail a 2^level grid misses: the layer stays within
 * 2–4 % of the direct one up to σ 32 and 9 % at σ 64 (`npm run bench -- blobs`). The cost of a layer
 * then no longer grows with σ: on a 2048² frame σ 64 took 7 s as a direct blur and takes 60 ms.
 * Peaks of an interpolated layer sit on level pixels (every 2^level px); a blob of σ ≥ 8 has a radius
 * ≥ 11 px, and its centre to within 2^(level−1) px is well inside it.
 */
export function scaleNormalisedLog(grey: Float32Array, width: number, height: number, sigma: number): Float32Array {
  const [response] = pyramidLog({ data: grey, width, height }, [sigma], 0, { minLevelSigma: BLOB_LEVEL_SIGMA });
  // Level 0 is the frame's own grid and a fresh array: no copy (every σ < 8 goes this way).
  return response.level === 0 ? response.response.data : upsampleLevel(response.response, 2 ** response.level, width, height);
}

export function detectBlobs(grey: Float32Array, width: number, height: number, options: BlobOptions = DEFAULT_BLOB_OPTIONS): Blob[] {
  return suppressOverlaps(findBlobPeaks(grey, width, height, options), options.overlap);
}

/**
 * Scale-space peaks above the threshold, before overlap suppression. Since a
 * blob is only ever suppressed by a stronger one, thresholding after
 * suppression equals thresholding before it: callers may detect once at a low
 * threshold and apply higher thresholds (and any overlap) later, cheaply.
 */
export function findBlobPeaks(grey: Float32Array, width: number, height: number, options: BlobOptions, layerOf?: (sigma: number) => Float32Array): Blob[] {
  const sigmas = blobSigmas(options);
  // `layerOf` lets a caller serve scale-space layers from a cache (BlobDetector): ranges that share σ values share their work.
  const stack = sigmas.map((s) => (layerOf ? layerOf(s) : scaleNormalisedLog(grey, width, height, s)));
  const threshold = options.thresholdMode === 'noise' ? options.threshold * estimateNoiseSigma(grey, width, height) : options.threshold;
  const found: Blob[] = [];
  const polarities: ('bright' | 'dark')[] = options.polarity === 'both' ? ['bright', 'dark'] : [options.polarity];
  for (const polarity of polarities) {
    // Bright blobs have a negative Laplacian at their centre.
    const sign = polarity === 'bright' ? -1 : 1;
    for (let s = 0; s < sigmas.length; s++) findPeaks(stack, s, sign, width, height, threshold, options.border, sigmas[s], polarity, found);
  }
  return found;
}

/** The image noise σ that a 'noise' threshold is a multiple of. */
export function blobNoiseUnit(grey: Float32Array, width: number, height: number): number {
  return estimateNoiseSigma(grey, width, height);
}

/** Local maxima of sign·response over the 3×3×3 neighbourhood in (scale, y, x), above the threshold. */
function findPeaks(
  stack: Float32Array[],
  s: number,
  sign: number,
  width: number,
  height: number,
  threshold: number,
  border: number,
  sigma: number,
  polarity: 'bright' | 'dark',
  out: Blob[],
): void {
  const layers = [stack[s - 1], stack[s], stack[s + 1]].filter((l): l is Float32Array => l !== undefined);
  const centre = stack[s];
  const b = Math.max(0, Math.ceil(border));
  for (let y = b; y < height - b; y++) {
    for (let x = b; x < width - b; x++) {
      const v = sign * centre[y * width + x];
      if (!(v > threshold)) continue;
      let isPeak = true;
      for (const layer of layers) {
        for (let dy = -1; dy <= 1 && isPeak; dy++) {
          const yy = y + dy;
          if (yy < 0 || yy >= height) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx;
            if (xx < 0 || xx >= width || (layer === centre && dx === 0 && dy === 0)) continue;
            if (sign * layer[yy * width + xx] > v) {
              isPeak = false;
              break;
            }
          }
        }
        if (!isPeak) break;
      }
      if (isPeak) out.push({ x, y, sigma, radius: Math.SQRT2 * sigma, response: v, polarity });
    }
  }
}

/** Area of the intersection of two disks over the smaller disk's area. */
function overlapFraction(a: Blob, b: Blob): number {
  const d = Math.hypot(a.x - b.x, a.y - b.y);
  const r1 = a.radius;
  const r2 = b.radius;
  if (d >= r1 + r2) return 0;
  const small = Math.min(r1, r2);
  if (d <= Math.abs(r1 - r2)) return 1;
  const a1 = r1 * r1 * Math.acos((d * d + r1 * r1 - r2 * r2) / (2 * d * r1));
  const a2 = r2 * r2 * Math.acos((d * d + r2 * r2 - r1 * r1) / (2 * d * r2));
  const a3 = 0.5 * Math.sqrt(Math.max(0, (-d + r1 + r2) * (d + r1 - r2) * (d - r1 + r2) * (d + r1 + r2)));
  return (a1 + a2 - a3) / (Math.PI * small * small);
}

/**
 * Keep blobs strongest first; drop one that overlaps a kept blob by more than
 * `overlap` (a plateau's duplicate pixels overlap fully and go too). Kept blobs
 * sit in a coarse grid so each check only looks nearby. Output is sorted by
 * position (y, then x) so prompt order does not depend on responses.
 */
export function suppressOverlaps(blobs: readonly Blob[], overlap: number): Blob[] {
  const order = [...blobs].sort((a, b) => b.response - a.response || a.y - b.y || a.x - b.x || a.sigma - b.sigma);
  const maxRadius = blobs.reduce((m, b) => Math.max(m, b.radius), 1);
  const cell = 2 * maxRadius;
  const grid = new Map<string, Blob[]>();
  const kept: Blob[] = [];
  for (const blob of order) {
    const cx = Math.floor(blob.x / cell);
    const cy = Math.floor(blob.y / cell);
    let suppressed = false;
    for (let gy = cy - 1; gy <= cy + 1 && !suppressed; gy++) {
      for (let gx = cx - 1; gx <= cx + 1 && !suppressed; gx++) {
        for (const other of grid.get(`${gx},${gy}`) ?? []) {
          if (overlapFraction(blob, other) > overlap) {
            suppressed = true;
            break;
          }
        }
      }
    }
    if (suppressed) continue;
    kept.push(blob);
    const key = `${cx},${cy}`;
    const bucket = grid.get(key);
    if (bucket) bucket.push(blob);
    else grid.set(key, [blob]);
  }
  return kept.sort((a, b) => a.y - b.y || a.x - b.x);
}
