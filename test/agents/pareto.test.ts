import { describe, expect, it } from 'vitest';
import { dominates, ParetoArchive } from '../../agents/pareto.js';
import { SamstarError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

/** Indices of the non-dominated finite vectors, by the O(n²) definition. */
function bruteFront(objectives: number[][]): number[] {
  const out: number[] = [];
  objectives.forEach((a, i) => {
    if (!a.every(Number.isFinite)) return;
    const dominated = objectives.some((b, j) => j !== i && b.every(Number.isFinite) && b.every((v, k) => v >= a[k]) && b.some((v, k) => v > a[k]));
    if (!dominated) out.push(i);
  });
  return out;
}

describe('Pareto archive', () => {
  it('keeps exactly the non-dominated set (vs brute force) in 2 and 3 objectives, incl. ties, duplicates and NaN', () => {
    const rng = new Rng(21);
    for (const m of [2, 3]) {
      for (let trial = 0; trial < 5; trial++) {
        const archive = new ParetoArchive<{ id: number }>();
        const objectives: number[][] = [];
        for (let i = 0; i < 300; i++) {
          // Coarse values so ties and exact duplicates happen; a few failed evaluations.
          const o = Array.from({ length: m }, () => Math.round(rng.next() * 12) / 12);
          if (i % 37 === 5) o[0] = NaN;
          if (i % 53 === 7 && i > 0) o.splice(0, m, ...objectives[i - 1]);
          objectives.push(o);
          archive.add([i, -i], o, { id: i });
        }
        const front = archive.front();
        expect(front.map((e) => e.index).sort((a, b) => a - b)).toEqual(bruteFront(objectives));
        expect(archive.size).toBe(300);
        expect(front.every((e) => e.meta?.id === e.index)).toBe(true);
      }
    }
  });

  it('orders the front by the first objective descending, then the next, then insertion', () => {
    const archive = new ParetoArchive();
    archive.add([0], [1, 3]);
    archive.add([1], [3, 1]);
    archive.add([2], [2, 2]);
    archive.add([3], [2, 2]);
    archive.add([4], [1.5, 1.5]); // dominated by [2, 2]
    expect(archive.add([5], [0, 0])).toBe(false);
    expect(archive.front().map((e) => e.index)).toEqual([1, 2, 3, 0]);
    // A new point that dominates several removes them.
    expect(archive.add([6], [2.5, 2.5])).toBe(true);
    expect(archive.front().map((e) => e.index)).toEqual([1, 6, 0]);
    expect(dominates([1, 1], [1, 1])).toBe(false);
    expect(dominates([1, 2], [1, 1])).toBe(true);
  });

  it('picks by weights on objectives rescaled to the front range (matches brute force)', () => {
    const archive = new ParetoArchive();
    // Objectives on very different scales: mSA-like in [0, 1], a count-error term in [−100, 0].
    archive.add([0], [0.9, -100]);
    archive.add([1], [0.8, -20]);
    archive.add([2], [0.5, -5]);
    archive.add([3], [0.2, 0]);
    expect(archive.pick([1, 0])!.index).toBe(0);
    expect(archive.pick([0, 1])!.index).toBe(3);
    // Equal weights: score = ((o₁ − 0.2)/0.7 + (o₂ + 100)/100)/2 → 0.5, 0.829, 0.689, 0.5.
    const pick = archive.pick([1, 1])!;
    expect(pick.index).toBe(1);
    expect(pick.score).toBeCloseTo((6 / 7 + 0.8) / 2, 12);
    // Only ratios matter.
    expect(archive.pick([3, 3])!.index).toBe(1);
    const rng = new Rng(2);
    const big = new ParetoArchive();
    for (let i = 0; i < 500; i++) {
      const a = rng.next();
      big.add([i], [a, 1 - a * a + 0.2 * rng.next(), rng.next()]);
    }
    const front = big.front();
    for (let t = 0; t < 20; t++) {
      const w = [rng.next(), rng.next(), rng.next()];
      const lo = [0, 1, 2].map((k) => Math.min(...front.map((e) => e.objectives[k])));
      const hi = [0, 1, 2].map((k) => Math.max(...front.map((e) => e.objectives[k])));
      const score = (o: readonly number[]): number => o.reduce((s, v, k) => s + (w[k] * (v - lo[k])) / (hi[k] - lo[k]), 0);
      const expected = front.reduce((best, e) => (score(e.objectives) > score(best.objectives) ? e : best));
      expect(big.pick(w)!.index).toBe(expected.index);
    }
  });

  it('rejects bad weights and mismatched vectors, and is empty-safe', () => {
    const archive = new ParetoArchive();
    expect(archive.pick([1, 1])).toBeUndefined();
    expect(archive.front()).toEqual([]);
    archive.add([0, 0], [1, 2]);
    expect(() => archive.add([0, 0], [1, 2, 3])).toThrow(SamstarError);
    expect(() => archive.add([0], [1, 2])).toThrow(SamstarError);
    expect(() => archive.pick([1])).toThrow(/weights/);
    expect(() => archive.pick([-1, 1])).toThrow(/weight/);
    expect(() => archive.pick([0, 0])).toThrow(/sum/);
    expect(archive.pick([1, 0])!.index).toBe(0);
  });

  it('writes the front as JSON and CSV with column names and quoted metadata', () => {
    const archive = new ParetoArchive<{ note: string }>({ objectiveNames: ['msa', 'neg_overlap'], dimensionNames: ['pred_iou', 'stability'] });
    archive.add([0.2, 0.4], [0.7, -0.1], { note: 'a, "b"' });
    archive.add([0.6, 0.8], [0.8, -0.3]);
    archive.add([0.1, 0.1], [0.1, -0.5]); // dominated
    const json = archive.toJSON();
    expect(json.objectives).toEqual(['msa', 'neg_overlap']);
    expect(json.dimensions).toEqual(['pred_iou', 'stability']);
    expect(json.evaluations).toBe(3);
    expect(json.front.map((e) => e.index)).toEqual([1, 0]);
    expect(JSON.parse(JSON.stringify(archive))).toEqual(json);
    expect(archive.toCsv()).toBe(
      'index,pred_iou,stability,msa,neg_overlap,meta\n' + '1,0.6,0.8,0.8,-0.3,\n' + '0,0.2,0.4,0.7,-0.1,"{""note"":""a, \\""b\\""""}"\n',
    );
    const plain = new ParetoArchive();
    plain.add([1], [2, 3]);
    expect(plain.toCsv()).toBe('index,x0,f0,f1\n0,1,2,3\n');
  });

  it('handles thousands of evaluations quickly', () => {
    const rng = new Rng(9);
    const archive = new ParetoArchive();
    for (let i = 0; i < 5000; i++) {
      const a = rng.next();
      const b = rng.next();
      archive.add([a, b], [a + 0.1 * rng.normal(), Math.sqrt(1 - a * a) * b, rng.next()]);
    }
    const front = archive.front();
    expect(front.length).toBeGreaterThan(10);
    for (const e of front) for (const other of front) expect(dominates(other.objectives, e.objectives)).toBe(false);
  });
});
