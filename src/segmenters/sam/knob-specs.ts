import { KnobSpace, type KnobSpec } from '../knobs.js';
import type { ModelFamily } from './onnx-layout.js';

/**
 * The automatic-mask-generator knobs, with the defaults of segment-anything's
 * SamAutomaticMaskGenerator (points_per_side 32, pred_iou_thresh 0.88,
 * stability_score_thresh 0.95, stability_score_offset 1, box_nms_thresh 0.7,
 * crop_n_layers 0, crop_nms_thresh 0.7, crop_overlap_ratio 512/1500,
 * crop_n_points_downscale_factor 1, min_mask_region_area 0; the stage each knob
 * invalidates is the contract in docs/architecture.md). Bounds are what a
 * tuning agent may explore. `mask_threshold` and `stability_score_offset` live
 * on a 0.05 grid: the filter stage precomputes exact pixel counts at every
 * level of that grid (see levels.ts), which is what makes re-filtering exact
 * and cheap.
 */
export const SAM_KNOBS: readonly KnobSpec[] = [
  { name: 'points_per_side', kind: 'int', min: 4, max: 128, default: 32, stage: 'propose', description: 'N: an N×N grid of single-point prompts per crop' },
  // Not segment-anything's 64: on the CPU a batch of 16 decodes as fast per prompt as 64 with a third of the memory (bench/models.ts).
  { name: 'points_per_batch', kind: 'int', min: 1, max: 4096, default: 16, stage: 'propose', description: 'prompts per decoder batch (speed only: never changes the result; segment-anything uses 64, which a GPU may prefer)' },
  { name: 'crop_n_layers', kind: 'int', min: 0, max: 3, default: 0, stage: 'encode', description: 'extra crop layers; layer i has (2^i)² crops, each encoded on its own' },
  { name: 'crop_overlap_ratio', kind: 'float', min: 0, max: 0.9, default: 512 / 1500, stage: 'encode', description: 'overlap between crops as a fraction of the short image side' },
  { name: 'prompts', kind: 'choice', choices: ['grid', 'blobs', 'grid+blobs'], default: 'grid', stage: 'propose', description: 'prompt strategy: the reference point grid, one prompt per LoG blob, or both' },
  { name: 'blob_sigma_min', kind: 'log', min: 0.5, max: 32, default: 1.5, stage: 'propose', description: 'blob prompts: smallest LoG σ in pixels (radius ≈ 1.41σ)' },
  { name: 'blob_sigma_max', kind: 'log', min: 1, max: 64, default: 8, stage: 'propose', description: 'blob prompts: largest LoG σ in pixels' },
  { name: 'blob_sigma_steps', kind: 'int', min: 1, max: 20, default: 8, stage: 'propose', description: 'blob prompts: log-spaced scales between the σ bounds' },
  { name: 'blob_threshold', kind: 'float', min: 0, max: 50, default: 4, stage: 'propose', description: 'blob prompts: minimum scale-normalised LoG response, in multiples of the image noise σ' },
  { name: 'blob_overlap', kind: 'float', min: 0, max: 1, default: 0.5, stage: 'propose', description: 'blob prompts: drop the weaker of two blobs overlapping by more than this fraction' },
  { name: 'blob_polarity', kind: 'choice', choices: ['bright', 'dark', 'both'], default: 'bright', stage: 'propose', description: 'blob prompts: bright particles on dark (fluorescence, HAADF) or dark on bright (TEM, bright field)' },
  { name: 'blob_border', kind: 'int', min: 0, max: 256, default: 0, stage: 'propose', description: 'blob prompts: ignore blobs whose centre is closer than this to the image edge' },
  { name: 'blob_box_prompt', kind: 'choice', choices: ['off', 'on'], default: 'off', stage: 'propose', description: 'blob prompts: also give a box of twice the blob radius around each blob (bounds the mask)' },
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

const GRID_KNOBS = new Set(['points_per_side', 'crop_n_points_downscale_factor']);

/**
 * Whether a knob can change the proposals for these values: grid knobs do not
 * matter with blob prompts only, blob knobs not with grid prompts only. Cache
 * keys leave the others out, so e.g. moving a blob knob under `prompts: grid`
 * never re-runs the decoder.
 */
export function affectsProposals(name: string, values: Record<string, unknown>): boolean {
  if (SPEED_ONLY_KNOBS.has(name)) return false;
  if (name.startsWith('blob_')) return values.prompts !== 'grid';
  if (GRID_KNOBS.has(name)) return values.prompts !== 'blobs';
  return true;
}

/**
 * SAM 2's automatic generator (facebookresearch/sam2 automatic_mask_generator.py):
 * the same knobs with its defaults (pred_iou_thresh 0.8: its IoU head ends in a
 * sigmoid), plus the two it adds. Both act in the propose stage and are
 * approximations with a multimask-only export (samexporter's decoder drops the
 * single-mask token 0 that the reference's multimask_output=False picks from):
 * `multimask_output: off` keeps each prompt's best-scored mask, `use_m2m: on`
 * re-decodes each candidate with its own logits as mask input (propose.ts refineMasks).
 */
export const SAM2_KNOBS: readonly KnobSpec[] = [
  ...SAM_KNOBS.map((k): KnobSpec => (k.name === 'pred_iou_thresh' && k.kind === 'float' ? { ...k, default: 0.8 } : k)),
  { name: 'multimask_output', kind: 'choice', choices: ['on', 'off'], default: 'on', stage: 'propose', description: 'SAM 2: three masks per prompt (on), or only the best-scored one (off; approximates the reference)' },
  { name: 'use_m2m', kind: 'choice', choices: ['off', 'on'], default: 'off', stage: 'propose', description: "SAM 2: refine each mask once by feeding its logits back with its prompt (one more decoder pass per mask; approximates the reference's mask-to-mask step)" },
];

/** The knobs of a model family (SAM 1 and its relatives by default). */
export function samKnobSpace(family: ModelFamily = 'sam1'): KnobSpace {
  return new KnobSpace(family === 'sam2' ? SAM2_KNOBS : SAM_KNOBS);
}
