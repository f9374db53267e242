import type { Frame } from '../image/frame.js';
import type { BoxXYWH, Rle } from '../masks/types.js';
import type { KnobSpace, KnobValues } from './knobs.js';

/** One segmented instance, in the shape of SAM's automatic-mask-generator records. */
export interface Instance {
  /** COCO RLE over the full frame. */
  readonly segmentation: Rle;
  readonly area: number;
  /** XYWH with w = x1 − x0 (inclusive pixel box, as SAM writes it). */
  readonly bbox: BoxXYWH;
  readonly predicted_iou: number;
  readonly stability_score: number;
  /** Prompt point in image coordinates ([x, y]); absent for segmenters without prompts. */
  readonly point_coords: [number, number][];
  /** Crop box (XYWH) the mask came from. */
  readonly crop_box: BoxXYWH;
}

export interface Segmentation {
  readonly width: number;
  readonly height: number;
  readonly instances: Instance[];
  /** The knob values that produced it. */
  readonly knobs: KnobValues;
  /** Milliseconds spent per stage (only the stages that actually ran). */
  readonly timings: Partial<Record<'encode' | 'propose' | 'filter' | 'total', number>>;
  /** Segmenter-specific counts (e.g. how many masks each filter step dropped). */
  readonly stats?: Readonly<Record<string, number>>;
}

/** The contract every segmenter meets (SAM on ONNX, the blob segmenter, …). */
export interface Segmenter {
  readonly name: string;
  readonly knobs: KnobSpace;
  segment(frame: Frame, knobs: KnobValues): Promise<Segmentation>;
  dispose(): Promise<void>;
}
