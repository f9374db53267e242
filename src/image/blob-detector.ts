import { LruCache } from '../util/lru.js';
import { blobNoiseUnit, detectBlobs, findBlobPeaks, scaleNormalisedLog, suppressOverlaps, type Blob, type BlobOptions } from './blobs.js';
import type { Frame } from './frame.js';

/** Scale-space peaks of one frame at a detection floor, and the noise unit their thresholds are multiples of. */
export interface BlobDetection {
  readonly peaks: readonly Blob[];
  readonly noise: number;
}

/** The options that decide which peaks exist (the threshold and overlap only select among them). */
export type PeakOptions = Pick<BlobOptions, 'sigmaMin' | 'sigmaMax' | 'sigmaSteps' | 'polarity' | 'border'>;

/**
 * Blob detection for callers that try many blob settings on the same frames (tuning agents).
 * The expensive part — the LoG scale space and its peaks — depends on the σ range, polarity and
 * border only; it runs once per frame and those options at a low floor, and any threshold at or
 * above the floor (with any overlap) is then a filter over the cached peaks. That is exact:
 * a blob is only ever suppressed by a stronger one, so thresholding before or after the
 * suppression keeps the same blobs.
 */
export class BlobDetector {
  private readonly detections: LruCache<BlobDetection>;
  /** Scale-space layers σ²∇²G_σ∗I per frame and σ (off when the budget is 0). */
  private readonly layers: LruCache<Float32Array> | undefined;
  /** The noise unit per frame (a few bytes each; bounded like the other caches). */
  private readonly noise = new LruCache<number>(2 ** 20, () => 64);
  /** Scale-space layers computed so far (cached ones not counted): what the layer cache saves shows here. */
  layersComputed = 0;

  constructor(
    /** The lowest threshold, in multiples of the image noise σ, that peaks are kept at. */
    readonly floor: number,
    maxBytes = 256 * 2 ** 20,
    /**
     * Bytes of scale-space layers kept per σ (default 0: none). With a budget, a detection over a
     * new σ range computes only the σ values no earlier range of the frame had, and both polarities
     * share their layers: searching σ ranges on a common lattice (as adaptation does) costs about
     * one scale space over the lattice. A 2048² layer is 16 MB.
     */
    layerBytes = 0,
  ) {
    this.detections = new LruCache<BlobDetection>(maxBytes, (d) => 64 * d.peaks.length + 64);
    this.layers = layerBytes > 0 ? new LruCache<Float32Array>(layerBytes, (l) => l.byteLength + 64) : undefined;
  }

  /** The peaks at the floor; `ms` is set when they were computed now (not cached). */
  peaks(frame: Frame, options: PeakOptions): { detection: BlobDetection; ms?: number } {
    const key = `${frame.hash}|${options.sigmaMin}|${options.sigmaMax}|${options.sigmaSteps}|${options.polarity}|${options.border}`;
    const cached = this.detections.get(key);
    if (cached) return { detection: cached };
    const t0 = performance.now();
    const layers = this.layers;
    // σ values from different ranges agree to rounding only (2·e^{0} vs 1·e^{ln 4 / 2}): key them at 10 digits.
    const layerOf = layers
      ? (sigma: number): Float32Array => {
          const layerKey = `${frame.hash}|${sigma.toPrecision(10)}`;
          let layer = layers.get(layerKey);
          if (!layer) {
            layer = scaleNormalisedLog(frame.grey, frame.width, frame.height, sigma);
            this.layersComputed++;
            layers.set(layerKey, layer);
          }
          return layer;
        }
      : undefined;
    // The noise unit once per frame (the 'noise' threshold mode would estimate it again per range).
    let noise = this.noise.get(frame.hash);
    if (noise === undefined) {
      noise = blobNoiseUnit(frame.grey, frame.width, frame.height);
      this.noise.set(frame.hash, noise);
    }
    const detection: BlobDetection = {
      peaks: findBlobPeaks(frame.grey, frame.width, frame.height, { ...options, threshold: this.floor * noise, thresholdMode: 'absolute', overlap: 1 }, layerOf),
      noise,
    };
    this.detections.set(key, detection);
    return { detection, ms: performance.now() - t0 };
  }

  /** Exactly `detectBlobs(frame, options)`, from the cached peaks whenever the threshold allows. */
  detect(frame: Frame, options: BlobOptions): Blob[] {
    if (options.thresholdMode !== 'noise' || !(options.threshold >= this.floor)) return detectBlobs(frame.grey, frame.width, frame.height, options);
    return selectBlobs(this.peaks(frame, options).detection, options.threshold, options.overlap);
  }

  clear(): void {
    this.detections.clear();
    this.layers?.clear();
    this.noise.clear();
  }
}

/** The blobs of a detection above `threshold` noise σ, overlaps suppressed (strongest first). */
export function selectBlobs(detection: BlobDetection, threshold: number, overlap: number): Blob[] {
  const level = threshold * detection.noise;
  return suppressOverlaps(
    detection.peaks.filter((b) => b.response > level),
    overlap,
  );
}
