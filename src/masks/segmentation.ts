import type { BoxXYWH, Rle } from './types.js';

/**
 * What every segmenter returns, defined here, below the segmenters, so that
 * measure and rewards can read segmentations without importing the segmenters
 * (docs/architecture.md: imports point downwards). src/segmenters/types.ts
 * re-exports both types next to the Segmenter contract.
 */

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
  /** The knob values that produced it (KnobValues of src/segmenters/knobs.ts). */
  readonly knobs: Record<string, number | string>;
  /** Milliseconds spent per stage (only the stages that actually ran). */
  readonly timings: Partial<Record<'encode' | 'propose' | 'filter' | 'total', number>>;
  /** Segmenter-specific counts (e.g. how many masks each filter step dropped). */
  readonly stats?: Readonly<Record<string, number>>;
}
