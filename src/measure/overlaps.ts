import type { LabelImage } from '../masks/types.js';
import { SamstarError } from '../util/errors.js';
import { validateLabelImage } from './crops.js';
import { FIRST_CLAIM, type InstanceSet } from './types.js';

/**
 * Pixel overlaps between predicted instances and true instances: the sparse table every
 * label-based score is computed from. One walk over the predicted crops reads the truth label
 * under each predicted pixel, so the cost is the predicted area plus one pass over the truth.
 */
export interface OverlapTable {
  readonly predCount: number;
  readonly truthCount: number;
  readonly predAreas: Float64Array;
  readonly truthAreas: Float64Array;
  /** Label value of each truth index (ascending). */
  readonly truthLabels: Uint32Array;
  /** Pair k: prediction pred[k] overlaps truth truth[k] on intersection[k] pixels. */
  readonly pred: Int32Array;
  readonly truth: Int32Array;
  readonly intersection: Float64Array;
  readonly iou: Float64Array;
  /** Pixels in the union of the predictions, in the truth's foreground, and in both. */
  readonly predUnion: number;
  readonly truthForeground: number;
  readonly foregroundIntersection: number;
}

interface TruthIndex {
  slotOf: (value: number) => number;
  labels: Uint32Array;
  areas: Float64Array;
}

function indexTruth(truth: LabelImage): TruthIndex {
  const data = truth.data;
  let max = 0;
  for (let p = 0; p < data.length; p++) if (data[p] > max) max = data[p];
  const counts = new Map<number, number>();
  if (max < 1 << 24) {
    const dense = new Float64Array(max + 1);
    for (let p = 0; p < data.length; p++) dense[data[p]]++;
    for (let v = 1; v <= max; v++) if (dense[v] > 0) counts.set(v, dense[v]);
  } else {
    for (let p = 0; p < data.length; p++) if (data[p]) counts.set(data[p], (counts.get(data[p]) ?? 0) + 1);
  }
  const labels = Uint32Array.from([...counts.keys()].sort((a, b) => a - b));
  const areas = Float64Array.from(labels, (v) => counts.get(v)!);
  if (max < 1 << 24) {
    const slots = new Int32Array(max + 1).fill(-1);
    labels.forEach((v, i) => (slots[v] = i));
    return { slotOf: (v) => slots[v], labels, areas };
  }
  const slots = new Map<number, number>();
  labels.forEach((v, i) => slots.set(v, i));
  return { slotOf: (v) => slots.get(v) ?? -1, labels, areas };
}

export function overlapTable(set: InstanceSet, truth: LabelImage, source?: string): OverlapTable {
  validateLabelImage(truth, source);
  if (truth.width !== set.width || truth.height !== set.height) {
    throw new SamstarError(
      'SIZE_MISMATCH',
      `${source ? `${source}: ` : ''}truth labels are ${truth.width}×${truth.height} but the prediction is ${set.width}×${set.height}`,
    );
  }
  const index = indexTruth(truth);
  const truthData = truth.data;
  const width = set.width;
  const predCount = set.crops.length;
  const truthCount = index.labels.length;

  // Per-crop accumulation with stamps: `stamp[t] === crop` means `local[t]` is valid for this crop.
  const stamp = new Int32Array(truthCount).fill(-1);
  const local = new Int32Array(truthCount);
  const pairPred: number[] = [];
  const pairTruth: number[] = [];
  const pairCount: number[] = [];
  let predUnion: number;
  let foregroundIntersection = 0;

  set.crops.forEach((crop, i) => {
    const stride = crop.cols + 2;
    for (let r = 0; r < crop.rows; r++) {
      const src = (r + 1) * stride + 1;
      const dst = (crop.row0 + r) * width + crop.col0;
      for (let c = 0; c < crop.cols; c++) {
        const k = crop.data[src + c];
        if (!k) continue;
        const v = truthData[dst + c];
        if (v === 0) continue;
        // Each pixel of the predicted union is counted once, by the mask that claimed it first.
        if (k === FIRST_CLAIM) foregroundIntersection++;
        const t = index.slotOf(v);
        if (stamp[t] !== i) {
          stamp[t] = i;
          local[t] = pairCount.length;
          pairPred.push(i);
          pairTruth.push(t);
          pairCount.push(0);
        }
        pairCount[local[t]]++;
      }
    }
  });

  const predAreas = Float64Array.from(set.crops, (crop) => crop.area);
  predUnion = set.covered;
  const intersection = Float64Array.from(pairCount);
  const pred = Int32Array.from(pairPred);
  const truthIdx = Int32Array.from(pairTruth);
  const iou = new Float64Array(intersection.length);
  for (let k = 0; k < iou.length; k++) {
    iou[k] = intersection[k] / (predAreas[pred[k]] + index.areas[truthIdx[k]] - intersection[k]);
  }
  let truthForeground = 0;
  for (const a of index.areas) truthForeground += a;
  return {
    predCount,
    truthCount,
    predAreas,
    truthAreas: index.areas,
    truthLabels: index.labels,
    pred,
    truth: truthIdx,
    intersection,
    iou,
    predUnion,
    truthForeground,
    foregroundIntersection,
  };
}
