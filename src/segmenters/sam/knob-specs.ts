import { KnobSpace, type KnobSpec } from '../knobs.js';

/**
 * The automatic-mask-generator knobs, with the reference defaults of
 * segment-anything (see docs/sam-amg.md in the design notes). Bounds are what a
 * tuning agent may explore. `mask_threshold` and `stability_score_offset` live
 * on a 0.05 grid: the filter stage precomputes exact pixel counts at every
 * level of that grid (see levels.ts), which is what makes re-filtering exact
 * and cheap.
 */
export const SAM_KNOBS: readonly KnobSpec[] = [
  { name: 'points_per_side', kind: 'int', min: 4, max: 128, default: 32, stage: 'propose', description: 'N: an N×N grid of single-point prompts per crop' },
  { name: 'points_per_batch', kind: 'int', min: 1, max: 4096, default: 64, stage: 'propose', description: 'prompts per decoder batch (speed only: never changes the result)' },
  { name: 'crop_n_layers', kind: 'int', min: 0, max: 3, default: 0, stage: 'encode', description: 'extra crop layers; layer i has (2^i)² crops, each encoded on its own' },
  { name: 'crop_overlap_ratio', kind: 'float', min: 0, max: 0.9, default: 512 / 1500, stage: 'encode', description: 'overlap between crops as a fraction of the short image side' },
  { name: 'crop_n_points_downscale_factor', kind: 'int', min: 1, max: 8, default: 1, stage: 'propose', description: 'crop layer i uses floor(N / factor^i) points per side' },
  { name: 'pred_iou_thresh', kind: 'float', min: 0, max: 1, default: 0.88, stage: 'filter', description: 'keep a mask when its predicted IoU is > this (0 disables the filter)' },
  { name: 'stability_score_thresh', kind: 'float', min: 0, max: 1, default: 0.95, stage: 'filter', description: 'keep a mask when its stability score is >= this (0 disables the filter)' },
  { name: 'stability_score_offset', kind: 'float', min: 0.05, max: 3, step: 0.05, default: 1, stage: 'filter', description: 'δ in stability = |L > t+δ| / |L > t−δ| (multiples of 0.05)' },
  { name: 'mask_threshold', kind: 'float', min: -2, max: 2, step: 0.05, default: 0, stage: 'filter', description: 'logit threshold t that binarises masks (multiples of 0.05)' },
  { name: 'box_nms_thresh', kind: 'float', min: 0, max: 1, default: 0.7, stage: 'filter', description: 'box-IoU NMS within a crop, scored by predicted IoU' },
  { name: 'crop_nms_thresh', kind: 'float', min: 0, max: 1, default: 0.7, stage: 'filter', description: 'box-IoU NMS across crops, scored by 1 / crop area' },
  { name: 'min_mask_region_area', kind: 'int', min: 0, max: 100000, default: 0, stage: 'filter', description: 'fill holes / remove islands smaller than this many pixels, then NMS again (0 disables)' },
];

/** Knobs that change only speed: left out of cache keys. */
export const SPEED_ONLY_KNOBS: ReadonlySet<string> = new Set(['points_per_batch']);

export function samKnobSpace(): KnobSpace {
  return new KnobSpace(SAM_KNOBS);
}
