import { maxWeightMatching } from './assignment.js';
import type { OverlapTable } from './overlaps.js';

/**
 * Instance matching as the microscopy anchors (micro-sam / elf, after StarDist) define it:
 * IoU between every predicted and true instance; at threshold τ a Hungarian matching that
 * maximises the number of pairs with IoU ≥ τ (ties broken by total IoU); TP = matched pairs,
 * FP = predictions − TP, FN = truths − TP.
 *
 * Degenerate cases, chosen so that rewards stay defined: when there is nothing to find and
 * nothing was found (TP = FP = FN = 0) every score is 1; otherwise a score with TP = 0 is 0
 * (elf returns 0 in both cases; a reward must not punish a correct empty answer).
 */
export interface MatchScores {
  readonly threshold: number;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Segmentation accuracy SA(τ) = TP / (TP + FP + FN). */
  readonly sa: number;
  /** Mean IoU of the matched pairs. */
  readonly mean_iou: number;
  readonly matches: { pred: number; truth: number; iou: number }[];
}

/** τ = 0.50, 0.55, …, 0.95 (decimal values, not accumulated floating steps). */
export const MSA_THRESHOLDS: readonly number[] = Array.from({ length: 10 }, (_, k) => (50 + 5 * k) / 100);

function ratio(tp: number, denominator: number, nothingToDo: boolean): number {
  if (nothingToDo) return 1;
  return tp > 0 ? tp / denominator : 0;
}

export function matchInstances(table: OverlapTable, threshold = 0.5): MatchScores {
  const keep: number[] = [];
  for (let k = 0; k < table.iou.length; k++) if (table.iou[k] >= threshold) keep.push(k);
  // Weight 1 per pair plus an IoU tie-break too small to ever trade one pair for two: the sum of
  // the tie-breaks over any matching is below ½.
  const bonus = 1 / (2 * (Math.min(table.predCount, table.truthCount) + 1));
  const chosen = maxWeightMatching(
    {
      pred: Int32Array.from(keep, (k) => table.pred[k]),
      truth: Int32Array.from(keep, (k) => table.truth[k]),
      weight: Float64Array.from(keep, (k) => 1 + bonus * table.iou[k]),
    },
    table.predCount,
    table.truthCount,
  );
  const matches = chosen.map((c) => {
    const k = keep[c];
    return { pred: table.pred[k], truth: table.truth[k], iou: table.iou[k] };
  });
  const tp = matches.length;
  const fp = table.predCount - tp;
  const fn = table.truthCount - tp;
  const none = tp + fp + fn === 0;
  let iouSum = 0;
  for (const m of matches) iouSum += m.iou;
  return {
    threshold,
    tp,
    fp,
    fn,
    precision: ratio(tp, tp + fp, none),
    recall: ratio(tp, tp + fn, none),
    f1: ratio(2 * tp, 2 * tp + fp + fn, none),
    sa: ratio(tp, tp + fp + fn, none),
    mean_iou: none ? 1 : tp > 0 ? iouSum / tp : 0,
    matches,
  };
}

/** mSA: mean of SA(τ) over the thresholds (default 0.50:0.05:0.95). */
export function meanSegmentationAccuracy(
  table: OverlapTable,
  thresholds: readonly number[] = MSA_THRESHOLDS,
): { msa: number; perThreshold: { threshold: number; sa: number }[] } {
  const perThreshold = thresholds.map((threshold) => ({ threshold, sa: matchInstances(table, threshold).sa }));
  const msa = perThreshold.reduce((s, x) => s + x.sa, 0) / perThreshold.length;
  return { msa, perThreshold };
}

/**
 * Pixel-level Dice of the foregrounds, 2|P ∩ T| / (|P| + |T|), where P is the union of the
 * predicted masks and T the truth's foreground; 1 when both are empty.
 */
export function foregroundDice(table: OverlapTable): number {
  const total = table.predUnion + table.truthForeground;
  return total === 0 ? 1 : (2 * table.foregroundIntersection) / total;
}
