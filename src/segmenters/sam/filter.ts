import { rleArea } from '../../masks/rle.js';
import type { BoxXYWH, BoxXYXY, Rle } from '../../masks/types.js';
import type { KnobValues } from '../knobs.js';
import type { Instance } from '../types.js';
import { LEVEL_STEP, levelIndex } from './levels.js';
import { nms } from './nms.js';

/** A crop as the filter stage sees it: XYXY with exclusive x1, y1. */
export interface CropInfo {
  readonly box: BoxXYXY;
}

/**
 * What the filter stage asks of the decoder's answers. Two implementations:
 * the cached one answers from per-proposal summaries (proposal-source.ts), the
 * direct one walks full-resolution logits (direct-source.ts); tests hold them
 * to identical records.
 */
export interface ProposalSource {
  readonly imageWidth: number;
  readonly imageHeight: number;
  readonly crops: readonly CropInfo[];
  /** Indices of the proposals of a crop, in decoder order (prompt-major, tokens 1–3). */
  proposalsOfCrop(crop: number): ArrayLike<number>;
  iou(i: number): number;
  /** Prompt point in crop pixel coordinates. */
  point(i: number): [number, number];
  /** Pixels with logit > levelValue(k). */
  count(i: number, k: number): number;
  /** Inclusive box in crop coordinates of the pixels with logit > levelValue(k); (0,0,0,0) when none. */
  box(i: number, k: number): BoxXYXY;
  /** The small-region rule at level k and `area` (image coordinates). */
  smallRegions(i: number, k: number, area: number): { changed: boolean; box: BoxXYXY };
  /** RLE over the whole image of the final mask (after the small-region rule when area > 0). */
  rle(i: number, k: number, area: number): Rle;
}

export interface FilterKnobs {
  readonly pred_iou_thresh: number;
  readonly stability_score_thresh: number;
  readonly stability_score_offset: number;
  readonly mask_threshold: number;
  readonly box_nms_thresh: number;
  readonly crop_nms_thresh: number;
  readonly min_mask_region_area: number;
}

export function filterKnobsOf(values: KnobValues): FilterKnobs {
  return {
    pred_iou_thresh: Number(values.pred_iou_thresh),
    stability_score_thresh: Number(values.stability_score_thresh),
    stability_score_offset: Number(values.stability_score_offset),
    mask_threshold: Number(values.mask_threshold),
    box_nms_thresh: Number(values.box_nms_thresh),
    crop_nms_thresh: Number(values.crop_nms_thresh),
    min_mask_region_area: Number(values.min_mask_region_area),
  };
}

/** Counts of what each step dropped: for users asking "why did I get no masks?". */
export interface FilterStats {
  proposals: number;
  droppedByIou: number;
  droppedByStability: number;
  droppedByCropEdge: number;
  droppedByBoxNms: number;
  droppedByCropNms: number;
  droppedBySmallRegionNms: number;
  kept: number;
}

const EDGE_TOLERANCE = 20;

/** SAM's is_box_near_crop_edge: near a crop edge (±20 px) that is not also near the image edge. */
export function isNearCropEdge(boxInCrop: BoxXYXY, crop: BoxXYXY, imageWidth: number, imageHeight: number): boolean {
  const image: BoxXYXY = [0, 0, imageWidth, imageHeight];
  for (let c = 0; c < 4; c++) {
    const v = boxInCrop[c] + (c % 2 === 0 ? crop[0] : crop[1]);
    const nearCrop = Math.abs(v - crop[c]) <= EDGE_TOLERANCE;
    const nearImage = Math.abs(v - image[c]) <= EDGE_TOLERANCE;
    if (nearCrop && !nearImage) return true;
  }
  return false;
}

/** SAM's stability score |L > t+δ| / |L > t−δ| as float32; NaN when the denominator is empty. */
export function stabilityScore(above: number, below: number): number {
  return below === 0 ? NaN : Math.fround(above / below);
}

interface Candidate {
  readonly index: number;
  readonly crop: number;
  readonly stability: number;
  /** Image coordinates. */
  box: BoxXYXY;
}

/** Steps 5–12 of the automatic mask generator over a set of proposals. */
export function runFilterStage(source: ProposalSource, knobs: FilterKnobs): { instances: Instance[]; stats: FilterStats } {
  const kt = levelIndex(knobs.mask_threshold);
  const dk = Math.round(knobs.stability_score_offset / LEVEL_STEP);
  const iouThreshold = Math.fround(knobs.pred_iou_thresh);
  const stabilityThreshold = Math.fround(knobs.stability_score_thresh);
  const stats: FilterStats = {
    proposals: 0,
    droppedByIou: 0,
    droppedByStability: 0,
    droppedByCropEdge: 0,
    droppedByBoxNms: 0,
    droppedByCropNms: 0,
    droppedBySmallRegionNms: 0,
    kept: 0,
  };

  let candidates: Candidate[] = [];
  source.crops.forEach((crop, c) => {
    const indices = source.proposalsOfCrop(c);
    const inCrop: Candidate[] = [];
    for (let n = 0; n < indices.length; n++) {
      const i = indices[n];
      stats.proposals++;
      if (knobs.pred_iou_thresh > 0 && !(Math.fround(source.iou(i)) > iouThreshold)) {
        stats.droppedByIou++;
        continue;
      }
      const stability = stabilityScore(source.count(i, kt + dk), source.count(i, kt - dk));
      if (knobs.stability_score_thresh > 0 && !(stability >= stabilityThreshold)) {
        stats.droppedByStability++;
        continue;
      }
      const box = source.box(i, kt);
      if (isNearCropEdge(box, crop.box, source.imageWidth, source.imageHeight)) {
        stats.droppedByCropEdge++;
        continue;
      }
      inCrop.push({ index: i, crop: c, stability, box });
    }
    const keep = nms(
      inCrop.map((d) => d.box),
      inCrop.map((d) => source.iou(d.index)),
      knobs.box_nms_thresh,
    );
    stats.droppedByBoxNms += inCrop.length - keep.length;
    for (const k of keep) {
      const d = inCrop[k];
      const [x0, y0] = crop.box;
      d.box = [d.box[0] + x0, d.box[1] + y0, d.box[2] + x0, d.box[3] + y0];
      candidates.push(d);
    }
  });

  if (source.crops.length > 1) {
    const scores = candidates.map((d) => {
      const b = source.crops[d.crop].box;
      return 1 / ((b[2] - b[0]) * (b[3] - b[1]));
    });
    const keep = nms(
      candidates.map((d) => d.box),
      scores,
      knobs.crop_nms_thresh,
    );
    stats.droppedByCropNms = candidates.length - keep.length;
    candidates = keep.map((k) => candidates[k]);
  }

  const area = knobs.min_mask_region_area;
  if (area > 0 && candidates.length > 0) {
    const results = candidates.map((d) => source.smallRegions(d.index, kt, area));
    const keep = nms(
      results.map((r) => r.box),
      results.map((r) => (r.changed ? 0 : 1)),
      Math.max(knobs.box_nms_thresh, knobs.crop_nms_thresh),
    );
    stats.droppedBySmallRegionNms = candidates.length - keep.length;
    candidates = keep.map((k) => ({ ...candidates[k], box: results[k].changed ? results[k].box : candidates[k].box }));
  }

  const instances = candidates.map((d): Instance => {
    const rle = source.rle(d.index, kt, area);
    const crop = source.crops[d.crop].box;
    const [px, py] = source.point(d.index);
    const bbox: BoxXYWH = [d.box[0], d.box[1], d.box[2] - d.box[0], d.box[3] - d.box[1]];
    return {
      segmentation: rle,
      area: rleArea(rle),
      bbox,
      predicted_iou: source.iou(d.index),
      stability_score: d.stability,
      point_coords: [[px + crop[0], py + crop[1]]],
      crop_box: [crop[0], crop[1], crop[2] - crop[0], crop[3] - crop[1]],
    };
  });
  stats.kept = instances.length;
  return { instances, stats };
}
