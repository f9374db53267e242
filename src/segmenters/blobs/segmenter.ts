import type { Frame } from '../../image/frame.js';
import { blobNoiseUnit, findBlobPeaks, suppressOverlaps, type Blob, type BlobOptions } from '../../image/blobs.js';
import { LruCache } from '../../util/lru.js';
import type { KnobSpace, KnobValues } from '../knobs.js';
import type { Instance, Segmentation, Segmenter } from '../types.js';
import { blobInstance } from './instances.js';
import { DETECTION_FLOOR, blobKnobSpace } from './knob-specs.js';

interface Detection {
  readonly peaks: Blob[];
  readonly noise: number;
}

/**
 * A weight-free segmenter: scale-normalised LoG blobs, each a disk (or its
 * locally thresholded region). The same contract as SAM's segmenter, so the
 * whole framework — rewards, environments, agents, reports — works on it, as
 * in the LoG-with-rewards approach; it is also a baseline to compare SAM with.
 */
export class BlobSegmenter implements Segmenter {
  readonly name = 'blobs';
  readonly knobs: KnobSpace = blobKnobSpace();
  private readonly detections = new LruCache<Detection>(256 * 2 ** 20, (d) => 64 * d.peaks.length + 64);

  async segment(frame: Frame, knobs: KnobValues): Promise<Segmentation> {
    const values = this.knobs.resolve(knobs);
    const started = performance.now();
    const { detection, ms } = this.detect(frame, values);
    const filterStart = performance.now();
    const threshold = Number(values.blob_threshold) * detection.noise;
    const kept = suppressOverlaps(
      detection.peaks.filter((b) => b.response > threshold),
      Number(values.blob_overlap),
    );
    const minArea = Number(values.min_area);
    const instances: Instance[] = [];
    for (const blob of kept) {
      const instance = blobInstance(blob, frame.grey, frame.width, frame.height, {
        radiusScale: Number(values.radius_scale),
        refine: values.refine as 'none' | 'threshold',
        noise: detection.noise,
      });
      if (instance && instance.area >= minArea) instances.push(instance);
    }
    return {
      width: frame.width,
      height: frame.height,
      instances,
      knobs: values,
      timings: { ...(ms === undefined ? {} : { propose: ms }), filter: performance.now() - filterStart, total: performance.now() - started },
      stats: { peaks: detection.peaks.length, blobs: kept.length, kept: instances.length },
    };
  }

  /** Scale-space peaks at the detection floor, cached per frame and detection knobs. */
  private detect(frame: Frame, values: KnobValues): { detection: Detection; ms?: number } {
    const options: BlobOptions = {
      sigmaMin: Number(values.blob_sigma_min),
      sigmaMax: Math.max(Number(values.blob_sigma_min), Number(values.blob_sigma_max)),
      sigmaSteps: Number(values.blob_sigma_steps),
      threshold: DETECTION_FLOOR,
      thresholdMode: 'noise',
      overlap: 1,
      polarity: values.blob_polarity as BlobOptions['polarity'],
      border: Number(values.blob_border),
    };
    const key = `${frame.hash}|${JSON.stringify(options)}`;
    const cached = this.detections.get(key);
    if (cached) return { detection: cached };
    const t0 = performance.now();
    const detection = { peaks: findBlobPeaks(frame.grey, frame.width, frame.height, options), noise: blobNoiseUnit(frame.grey, frame.width, frame.height) };
    this.detections.set(key, detection);
    return { detection, ms: performance.now() - t0 };
  }

  async dispose(): Promise<void> {
    this.detections.clear();
  }
}
