import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLabelPng } from '../../src/masks/label-png.js';
import type { LabelImage } from '../../src/masks/types.js';
import { maxWeightMatching } from '../../src/measure/assignment.js';
import { cropsFromLabels, cropsFromPrediction } from '../../src/measure/crops.js';
import { scorePrediction } from '../../src/measure/evaluate.js';
import { solveAssignment } from '../../src/measure/hungarian.js';
import { foregroundDice, matchInstances, meanSegmentationAccuracy } from '../../src/measure/matching.js';
import { overlapTable, type OverlapTable } from '../../src/measure/overlaps.js';
import { Rng } from '../../src/util/rng.js';
import { segmentationFromLabels } from '../rewards/helpers.js';
import { dataPath, FIXTURES_DIR, HAVE_DATA } from './data.js';

/** A label image from rectangles [label, row0, col0, rows, cols] (later ones paint over earlier). */
function rects(width: number, height: number, boxes: [number, number, number, number, number][]): LabelImage {
  const data = new Uint32Array(width * height);
  for (const [label, r0, c0, rows, cols] of boxes) {
    for (let r = r0; r < r0 + rows; r++) for (let c = c0; c < c0 + cols; c++) data[r * width + c] = label;
  }
  return { width, height, data };
}

function table(pred: LabelImage, truth: LabelImage): OverlapTable {
  return overlapTable(cropsFromLabels(pred), truth);
}

const W = 40, H = 20;
const empty = rects(W, H, []);

describe('matching and mSA, hand-worked', () => {
  it('identical labels: everything is 1', () => {
    const t = rects(W, H, [[1, 0, 0, 5, 5], [2, 10, 10, 6, 4]]);
    const m = matchInstances(table(t, t));
    expect([m.tp, m.fp, m.fn]).toEqual([2, 0, 0]);
    expect([m.precision, m.recall, m.f1, m.sa, m.mean_iou]).toEqual([1, 1, 1, 1, 1]);
    expect(meanSegmentationAccuracy(table(t, t)).msa).toBe(1);
  });

  it('empty prediction: TP = 0, FN = truths, every score 0', () => {
    const t = rects(W, H, [[1, 0, 0, 5, 5], [2, 10, 10, 6, 4]]);
    const tab = table(empty, t);
    const m = matchInstances(tab);
    expect([m.tp, m.fp, m.fn]).toEqual([0, 0, 2]);
    expect([m.precision, m.recall, m.f1, m.sa, m.mean_iou]).toEqual([0, 0, 0, 0, 0]);
    expect(meanSegmentationAccuracy(tab).msa).toBe(0);
    expect(foregroundDice(tab)).toBe(0);
  });

  it('empty truth: FP = predictions, every score 0', () => {
    const p = rects(W, H, [[7, 3, 3, 4, 4]]);
    const tab = table(p, empty);
    const m = matchInstances(tab);
    expect([m.tp, m.fp, m.fn]).toEqual([0, 1, 0]);
    expect([m.precision, m.recall, m.f1, m.sa]).toEqual([0, 0, 0, 0]);
    expect(foregroundDice(tab)).toBe(0);
  });

  it('both empty: nothing to find, nothing found, every score 1', () => {
    const tab = table(empty, empty);
    const m = matchInstances(tab);
    expect([m.tp, m.fp, m.fn]).toEqual([0, 0, 0]);
    expect([m.precision, m.recall, m.f1, m.sa, m.mean_iou]).toEqual([1, 1, 1, 1, 1]);
    expect(meanSegmentationAccuracy(tab).msa).toBe(1);
    expect(foregroundDice(tab)).toBe(1);
  });

  it('one prediction over two truths (one-to-many): it matches one of them at IoU 0.5 only', () => {
    // Two 4×4 truths side by side; one 4×8 prediction over both: IoU 16/32 = 0.5 with each.
    const truth = rects(W, H, [[1, 0, 0, 4, 4], [2, 0, 4, 4, 4]]);
    const pred = rects(W, H, [[1, 0, 0, 4, 8]]);
    const tab = table(pred, truth);
    expect([...tab.iou]).toEqual([0.5, 0.5]);
    const m = matchInstances(tab, 0.5);
    expect([m.tp, m.fp, m.fn]).toEqual([1, 0, 1]);
    expect(m.precision).toBe(1);
    expect(m.recall).toBe(0.5);
    expect(m.f1).toBeCloseTo(2 / 3, 12);
    expect(m.sa).toBe(0.5);
    expect(m.mean_iou).toBe(0.5);
    expect(matchInstances(tab, 0.55).tp).toBe(0);
    // SA = 0.5 at τ = 0.50 and 0 at the nine higher thresholds.
    expect(meanSegmentationAccuracy(tab).msa).toBeCloseTo(0.05, 12);
  });

  it('two predictions inside one truth (many-to-one)', () => {
    const truth = rects(W, H, [[1, 0, 0, 4, 8]]);
    const pred = rects(W, H, [[1, 0, 0, 4, 4], [2, 0, 4, 4, 4]]);
    const m = matchInstances(table(pred, truth));
    expect([m.tp, m.fp, m.fn]).toEqual([1, 1, 0]);
    expect([m.precision, m.recall, m.sa]).toEqual([0.5, 1, 0.5]);
  });

  it('mSA over τ = 0.50 … 0.95 with IoUs 0.9 and 0.6, one false positive, one miss', () => {
    const truth = rects(W, H, [[1, 0, 0, 10, 10], [2, 0, 12, 10, 10], [3, 12, 30, 5, 5]]);
    // P1 = 10×9 inside T1: IoU 0.9. P2 = 10×6 inside T2: IoU 0.6. P3 on background.
    const pred = rects(W, H, [[1, 0, 0, 10, 9], [2, 0, 12, 10, 6], [3, 12, 0, 4, 4]]);
    const tab = table(pred, truth);
    // τ ≤ 0.60: TP 2, FP 1, FN 1 → SA 2/4; 0.65 … 0.90: TP 1, FP 2, FN 2 → SA 1/5; 0.95: 0.
    const { msa, perThreshold } = meanSegmentationAccuracy(tab);
    expect(perThreshold.map((p) => p.sa)).toEqual([0.5, 0.5, 0.5, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0]);
    expect(msa).toBeCloseTo((3 * 0.5 + 6 * 0.2) / 10, 12);
    const at = matchInstances(tab, 0.5);
    expect(at.mean_iou).toBeCloseTo(0.75, 12);
    expect(at.f1).toBeCloseTo(4 / 6, 12);
    // Dice: |P| = 90 + 60 + 16, |T| = 100 + 100 + 25, |P ∩ T| = 150.
    expect(foregroundDice(tab)).toBeCloseTo((2 * 150) / (166 + 225), 12);
  });

  it('Hungarian beats greedy at a low threshold', () => {
    // Greedy by IoU would pair A–T1 (0.40) and leave B alone; the optimum pairs A–T2 and B–T1.
    const tab: OverlapTable = {
      predCount: 2,
      truthCount: 2,
      predAreas: new Float64Array([1, 1]),
      truthAreas: new Float64Array([1, 1]),
      truthLabels: new Uint32Array([1, 2]),
      pred: new Int32Array([0, 0, 1]),
      truth: new Int32Array([0, 1, 0]),
      intersection: new Float64Array(3),
      iou: new Float64Array([0.4, 0.3, 0.35]),
      predUnion: 2,
      truthForeground: 2,
      foregroundIntersection: 1,
    };
    const m = matchInstances(tab, 0.25);
    expect(m.tp).toBe(2);
    expect(m.matches.map((x) => [x.pred, x.truth])).toEqual([
      [0, 1],
      [1, 0],
    ]);
  });

  it('overlapping predicted masks: the union is counted once for Dice', () => {
    const truth = rects(W, H, [[1, 0, 0, 4, 4]]);
    const a = rects(W, H, [[1, 0, 0, 4, 4]]);
    const b = rects(W, H, [[1, 0, 0, 4, 8]]); // contains a
    const seg = segmentationFromLabels(a, segmentationFromLabels(b).instances);
    const tab = overlapTable(cropsFromPrediction(seg), truth);
    expect(tab.predUnion).toBe(32);
    expect(tab.foregroundIntersection).toBe(16);
    expect(foregroundDice(tab)).toBeCloseTo((2 * 16) / (32 + 16), 12);
    const m = matchInstances(tab);
    expect([m.tp, m.fp, m.fn]).toEqual([1, 1, 0]);
    expect(m.matches[0]).toEqual({ pred: 0, truth: 0, iou: 1 });
  });

  it('a truth of another size is refused', () => {
    expect(() => overlapTable(cropsFromLabels(rects(W, H, [])), rects(10, 10, []))).toThrow(/10×10 but the prediction is 40×20/);
  });

  it('scorePrediction reports the evaluate keys', () => {
    const t = rects(W, H, [[1, 0, 0, 5, 5]]);
    expect(scorePrediction(t, t)).toEqual({ precision: 1, recall: 1, f1: 1, msa: 1, mean_iou: 1, dice: 1, diameter_error: null });
  });
});

describe('assignment', () => {
  function bruteForce(cost: Float64Array, n: number, m: number): number {
    let best = Infinity;
    const used = new Array<boolean>(m).fill(false);
    const go = (i: number, sum: number): void => {
      if (i === n) {
        best = Math.min(best, sum);
        return;
      }
      for (let j = 0; j < m; j++) {
        if (used[j]) continue;
        used[j] = true;
        go(i + 1, sum + cost[i * m + j]);
        used[j] = false;
      }
    };
    go(0, 0);
    return best;
  }

  it('solveAssignment finds the optimum on random matrices', () => {
    const rng = new Rng(3);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + rng.int(5);
      const m = n + rng.int(3);
      const cost = Float64Array.from({ length: n * m }, () => rng.uniform(-1, 1));
      const assignment = solveAssignment(cost, n, m);
      expect(new Set(assignment).size).toBe(n);
      const total = [...assignment].reduce((s, j, i) => s + cost[i * m + j], 0);
      expect(total).toBeCloseTo(bruteForce(cost, n, m), 10);
    }
  });

  it('maxWeightMatching equals brute force on small sparse graphs', () => {
    const rng = new Rng(9);
    for (let trial = 0; trial < 120; trial++) {
      const np = 1 + rng.int(4), nt = 1 + rng.int(5);
      const pred: number[] = [], truth: number[] = [], weight: number[] = [];
      for (let i = 0; i < np; i++) for (let j = 0; j < nt; j++) if (rng.next() < 0.4) pred.push(i), truth.push(j), weight.push(rng.uniform(0.1, 2));
      const chosen = maxWeightMatching({ pred: Int32Array.from(pred), truth: Int32Array.from(truth), weight: Float64Array.from(weight) }, np, nt);
      expect(new Set(chosen.map((k) => pred[k])).size).toBe(chosen.length);
      expect(new Set(chosen.map((k) => truth[k])).size).toBe(chosen.length);
      // Brute force: best total weight over all subsets of edges that form a matching.
      let best = 0;
      for (let mask = 0; mask < 1 << pred.length; mask++) {
        const ps = new Set<number>(), ts = new Set<number>();
        let sum = 0, ok = true;
        for (let k = 0; k < pred.length && ok; k++) {
          if (!(mask & (1 << k))) continue;
          if (ps.has(pred[k]) || ts.has(truth[k])) ok = false;
          ps.add(pred[k]), ts.add(truth[k]), (sum += weight[k]);
        }
        if (ok) best = Math.max(best, sum);
      }
      expect(chosen.reduce((s, k) => s + weight[k], 0)).toBeCloseTo(best, 10);
    }
  });

  it('maxWeightMatching splits into components and stays fast on 2000 instances', () => {
    const rng = new Rng(4);
    const pred: number[] = [], truth: number[] = [], weight: number[] = [];
    // Chains of overlaps: prediction i touches truths i and i + 1, in components of 10. Weights
    // are 1 plus a tie-break below 1/(2n), as matchInstances uses them: a perfect matching exists
    // and must be found.
    const n = 2000;
    for (let i = 0; i < n; i++) {
      pred.push(i), truth.push(i), weight.push(1 + rng.next() / (2 * n));
      if (i + 1 < n && i % 10 !== 9) pred.push(i), truth.push(i + 1), weight.push(1 + rng.next() / (2 * n));
    }
    const t0 = performance.now();
    const chosen = maxWeightMatching({ pred: Int32Array.from(pred), truth: Int32Array.from(truth), weight: Float64Array.from(weight) }, n, n);
    const ms = performance.now() - t0;
    expect(chosen.length).toBe(n);
    expect(new Set(chosen.map((k) => pred[k])).size).toBe(n);
    expect(new Set(chosen.map((k) => truth[k])).size).toBe(n);
    expect(ms).toBeLessThan(2000); // generous: the point is "not cubic in 2000"
  });
});

describe.skipIf(!HAVE_DATA)('matching agrees with scipy (StarDist/elf cost) on real label pairs', () => {
  const fixture = JSON.parse(readFileSync(join(FIXTURES_DIR, 'matching.json'), 'utf8')) as {
    pairs: { pred: string; truth: string; n_pred: number; n_true: number; tp: Record<string, number>; msa: number }[];
  };
  for (const pair of fixture.pairs) {
    it(`${pair.pred} vs ${pair.truth}`, async () => {
      const tab = overlapTable(cropsFromLabels(await readLabelPng(dataPath(pair.pred))), await readLabelPng(dataPath(pair.truth)));
      expect([tab.predCount, tab.truthCount]).toEqual([pair.n_pred, pair.n_true]);
      for (const [threshold, tp] of Object.entries(pair.tp)) expect(matchInstances(tab, Number(threshold)).tp, `τ = ${threshold}`).toBe(tp);
      expect(meanSegmentationAccuracy(tab).msa).toBeCloseTo(pair.msa, 12);
    });
  }
});
