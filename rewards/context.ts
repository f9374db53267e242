import { masksToLabelImage } from '../src/masks/label-image.js';
import type { LabelImage } from '../src/masks/types.js';
import { isBoxTruth, matchBoxes, type BoxMatchOptions, type BoxScores, type BoxTruth } from '../src/measure/boxes.js';
import { isSegmentation } from '../src/measure/crops.js';
import { matchInstances, type MatchScores } from '../src/measure/matching.js';
import { overlapTable, type OverlapTable } from '../src/measure/overlaps.js';
import { SamstarError } from '../src/util/errors.js';
import type { RewardInput } from './types.js';

/**
 * Memoised matching per reward input: several label terms (precision, recall, F1, mSA, …) share
 * one overlap table and one matching per threshold. Keyed by the input object (WeakMap), so the
 * terms stay pure functions of their arguments.
 */
interface Cache {
  table?: OverlapTable;
  truthLabels?: LabelImage;
  byThreshold: Map<number, MatchScores>;
  byBoxOptions: Map<string, BoxScores>;
}

const caches = new WeakMap<RewardInput, Cache>();

function cacheOf(input: RewardInput): Cache {
  let cache = caches.get(input);
  if (!cache) {
    cache = { byThreshold: new Map(), byBoxOptions: new Map() };
    caches.set(input, cache);
  }
  return cache;
}

export function truthKind(input: RewardInput): 'labels' | 'boxes' | 'none' {
  if (!input.truth) return 'none';
  return isBoxTruth(input.truth) ? 'boxes' : 'labels';
}

/** The truth as a label image (a segmentation is painted, smaller masks winning overlaps). */
function truthLabels(input: RewardInput): LabelImage {
  const cache = cacheOf(input);
  if (cache.truthLabels) return cache.truthLabels;
  const truth = input.truth;
  if (!truth || isBoxTruth(truth)) {
    throw new SamstarError('ARGUMENT_INVALID', 'this reward term needs instance labels as ground truth (boxes are not enough)');
  }
  cache.truthLabels = isSegmentation(truth)
    ? masksToLabelImage(truth.instances.map((i) => i.segmentation), truth.width, truth.height)
    : truth;
  return cache.truthLabels;
}

export function overlapsOf(input: RewardInput): OverlapTable {
  const cache = cacheOf(input);
  cache.table ??= overlapTable(input.measurements.set, truthLabels(input), 'ground truth');
  return cache.table;
}

export function matchAt(input: RewardInput, threshold: number): MatchScores {
  const cache = cacheOf(input);
  let scores = cache.byThreshold.get(threshold);
  if (!scores) {
    scores = matchInstances(overlapsOf(input), threshold);
    cache.byThreshold.set(threshold, scores);
  }
  return scores;
}

export function boxMatch(input: RewardInput, options: BoxMatchOptions): BoxScores {
  const cache = cacheOf(input);
  const key = JSON.stringify(options);
  let scores = cache.byBoxOptions.get(key);
  if (!scores) {
    const truth = input.truth as BoxTruth;
    const { width, height } = input.measurements.frame;
    if (truth.width !== width || truth.height !== height) {
      throw new SamstarError(
        'SIZE_MISMATCH',
        `box truth is for a ${truth.width}×${truth.height} image but the prediction is ${width}×${height}`,
      );
    }
    scores = matchBoxes(input.measurements.instances, truth, options);
    cache.byBoxOptions.set(key, scores);
  }
  return scores;
}
