import { boxMatch, matchAt, truthKind } from './context.js';
import { toBoxMatchOptions, type BoxMatchConfig } from './schema-parts.js';
import type { RewardInput } from './types.js';

/** Precision / recall / F1 against label truth (IoU matching at τ) or box truth (box matching). */
export function detectionScores(
  input: RewardInput,
  config: { iou_threshold: number; box_match: BoxMatchConfig },
): { precision: number; recall: number; f1: number } {
  if (truthKind(input) === 'boxes') return boxMatch(input, toBoxMatchOptions(config.box_match));
  return matchAt(input, config.iou_threshold);
}
