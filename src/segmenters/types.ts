import type { Frame } from '../image/frame.js';
import type { Segmentation } from '../masks/segmentation.js';
import type { KnobSpace, KnobValues } from './knobs.js';

// Segmentation and Instance live below the segmenters (measure and rewards read them); re-exported here for the segmenters and their callers.
export type { Instance, Segmentation } from '../masks/segmentation.js';

/** The contract every segmenter meets (SAM on ONNX, the blob segmenter, …). */
export interface Segmenter {
  readonly name: string;
  readonly knobs: KnobSpace;
  segment(frame: Frame, knobs: KnobValues): Promise<Segmentation>;
  dispose(): Promise<void>;
}
