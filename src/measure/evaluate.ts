import type { LabelImage } from '../masks/types.js';
import { isBoxTruth, matchBoxes, type BoxMatchOptions, type BoxTruth } from './boxes.js';
import { cropsFromPrediction, type Prediction } from './crops.js';
import { foregroundDice, matchInstances, meanSegmentationAccuracy } from './matching.js';
import { measureSet } from './measure.js';
import { overlapTable } from './overlaps.js';

/**
 * Scores of one prediction against its ground truth, as `samstar evaluate` reports them.
 * Label truth: precision, recall, F1 at IoU ≥ 0.5, mSA over 0.50:0.05:0.95, mean matched IoU,
 * foreground Dice. Box truth: precision, recall and F1 of the centre matching, mean box IoU of
 * the matched pairs, diameter error; mSA and Dice need masks and are null.
 */
export interface ImageScores {
  precision: number;
  recall: number;
  f1: number;
  msa: number | null;
  mean_iou: number;
  dice: number | null;
  diameter_error: number | null;
}

export const SCORE_KEYS = ['precision', 'recall', 'f1', 'msa', 'mean_iou', 'dice', 'diameter_error'] as const;

export const DEFAULT_BOX_MATCH: BoxMatchOptions = { match: 'center', maxDistance: 0.5, diameter: 'box' };

export function scorePrediction(
  prediction: Prediction,
  truth: LabelImage | BoxTruth,
  options: { iouThreshold?: number; boxMatch?: BoxMatchOptions; source?: string } = {},
): ImageScores {
  const set = cropsFromPrediction(prediction, options.source);
  if (isBoxTruth(truth)) {
    const measured = measureSet(set, { source: options.source });
    const scores = matchBoxes(measured.instances, truth, options.boxMatch ?? DEFAULT_BOX_MATCH);
    return {
      precision: scores.precision,
      recall: scores.recall,
      f1: scores.f1,
      msa: null,
      mean_iou: scores.mean_iou,
      dice: null,
      diameter_error: scores.diameter_error,
    };
  }
  const table = overlapTable(set, truth, options.source);
  const at = matchInstances(table, options.iouThreshold ?? 0.5);
  return {
    precision: at.precision,
    recall: at.recall,
    f1: at.f1,
    msa: meanSegmentationAccuracy(table).msa,
    mean_iou: at.mean_iou,
    dice: foregroundDice(table),
    diameter_error: null,
  };
}

/** Mean of each score over the images that have it (null when none has). */
export function meanScores(scores: readonly ImageScores[]): ImageScores {
  const mean = {} as Record<(typeof SCORE_KEYS)[number], number | null>;
  for (const key of SCORE_KEYS) {
    const values = scores.map((s) => s[key]).filter((v): v is number => v !== null);
    mean[key] = values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
  }
  return mean as ImageScores;
}
