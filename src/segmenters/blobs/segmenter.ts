import type { Frame } from '../../image/frame.js';
import { BlobDetector, selectBlobs, type BlobDetection, type PeakOptions } from '../../image/blob-detector.js';
import type { Blob, BlobOptions } from '../../image/blobs.js';
import { defineSegmenter } from '../definition.js';
import type { KnobSpace, KnobValues } from '../knobs.js';
import type { Instance, Segmentation, Segmenter } from '../types.js';
import { blobInstance } from './instances.js';
import { BLOB_SCALE_CANDIDATES, DETECTION_FLOOR, blobKnobSpace } from './knob-specs.js';

/**
 * A weight-free segmenter: scale-normalised LoG blobs, each a disk (or its
 * locally thresholded region). The same contract as SAM's segmenter, so the
 * whole framework — rewards, environments, agents, reports — works on it, as
 * in the LoG-with-rewards approach; it is also a baseline to compare SAM with.
 */
export class BlobSegmenter implements Segmenter {
  readonly name = 'blobs';
  readonly knobs: KnobSpace = blobKnobSpace();
  // Scale-space layers are kept per σ (256 MB): a search over σ ranges on a shared lattice (online
  // adaptation of the propose stage) then computes each σ of a frame once.
  private readonly detector = new BlobDetector(DETECTION_FLOOR, undefined, 256 * 2 ** 20);
  /**
   * Each cached peak's instance per shape (radius scale, refine). Keyed by the peak object, which
   * belongs to the detector's cached detection of one frame: the entries go when it is evicted.
   */
  private instances = new WeakMap<Blob, Map<string, Instance | null>>();

  async segment(frame: Frame, knobs: KnobValues): Promise<Segmentation> {
    const values = this.knobs.resolve(knobs);
    const started = performance.now();
    const { detection, ms } = this.detect(frame, values);
    const filterStart = performance.now();
    const kept = selectBlobs(detection, Number(values.blob_threshold), Number(values.blob_overlap));
    const minArea = Number(values.min_area);
    const options = { radiusScale: Number(values.radius_scale), refine: values.refine as 'none' | 'threshold', noise: detection.noise };
    const shape = `${options.radiusScale}|${options.refine}`;
    const instances: Instance[] = [];
    for (const blob of kept) {
      // A blob's instance depends on the blob, the frame and the shape knobs only: a threshold or
      // overlap that keeps it again (every evaluation of a threshold search) reuses it.
      let shapes = this.instances.get(blob);
      if (!shapes) {
        shapes = new Map();
        this.instances.set(blob, shapes);
      }
      let instance = shapes.get(shape);
      if (instance === undefined) {
        instance = blobInstance(blob, frame.grey, frame.width, frame.height, options);
        shapes.set(shape, instance);
      }
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
  private detect(frame: Frame, values: KnobValues): { detection: BlobDetection; ms?: number } {
    const options: PeakOptions = {
      sigmaMin: Number(values.blob_sigma_min),
      sigmaMax: Math.max(Number(values.blob_sigma_min), Number(values.blob_sigma_max)),
      sigmaSteps: Number(values.blob_sigma_steps),
      polarity: values.blob_polarity as BlobOptions['polarity'],
      border: Number(values.blob_border),
    };
    return this.detector.peaks(frame, options);
  }

  async dispose(): Promise<void> {
    this.detector.clear();
    this.instances = new WeakMap();
  }
}

/** `blobs`: the weight-free LoG blob segmenter (no model files). */
export const blobs = defineSegmenter({
  name: 'blobs',
  description: 'scale-normalised LoG blobs as disks or locally thresholded regions (weight-free, no model)',
  knobSpace: blobKnobSpace,
  usesModel: false,
  defaultTune: ['blob_threshold', 'blob_sigma_min', 'blob_sigma_max', 'blob_overlap'],
  example: {},
  proposePresets: { scales: BLOB_SCALE_CANDIDATES },
  load: async () => new BlobSegmenter(),
  rebuildOptions: (segmenter) => (segmenter instanceof BlobSegmenter ? {} : undefined),
});
