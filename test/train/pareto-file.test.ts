import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ObjectiveSpec } from '../../rewards/index.js';
import type { EvaluationRecord } from '../../src/store/index.js';
import { archiveOfStudy, knobInputOrPick, objectiveTerms, paretoFileOf, pickParetoPoint, type ParetoFile } from '../../src/train/pareto-file.js';
import { SamstarError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

/** A stored evaluation with objective values (raw, config order) in its terms; NaN total = failed. */
function record(index: number, raw: number[], specs: readonly ObjectiveSpec[], failed = false): EvaluationRecord {
  return {
    index,
    generation: index,
    candidate: 0,
    x: [index / 100],
    knobs: { a: index },
    total: failed ? Number.NaN : raw[0],
    terms: { t: 1, ...objectiveTerms(specs, raw) },
    frames: [0],
    ms: 1,
    created: '2026-01-01T00:00:00.000Z',
  };
}

/** Trial ids of the non-dominated finite evaluations, by the O(n²) definition (directions applied). */
function bruteFront(raws: number[][], failed: boolean[], specs: readonly ObjectiveSpec[]): number[] {
  const up = raws.map((r) => r.map((v, k) => (specs[k].direction === 'minimise' ? -v : v)));
  const ok = (i: number): boolean => !failed[i] && up[i].every(Number.isFinite);
  return up
    .map((a, i) => ({ a, i }))
    .filter(({ a, i }) => ok(i) && !up.some((b, j) => j !== i && ok(j) && b.every((v, k) => v >= a[k]) && b.some((v, k) => v > a[k])))
    .map(({ i }) => i);
}

const two: ObjectiveSpec[] = [
  { name: 'fit', expr: 'fit', direction: 'maximise' },
  { name: 'overlap', expr: 'overlap', direction: 'minimise' },
];

function fileOf(specs: readonly ObjectiveSpec[], raws: number[][], failed: boolean[] = raws.map(() => false)): ParetoFile {
  const archive = archiveOfStudy(specs, raws.map((r, i) => record(i, r, specs, failed[i])));
  return paretoFileOf({ study: 's', method: 'm', specs, archive })!;
}

describe('pareto.json of a study', () => {
  it('holds exactly the non-dominated evaluations (brute force, seeded random studies, 2 and 3 objectives, ties, failures)', () => {
    const rng = new Rng(14);
    const three: ObjectiveSpec[] = [...two, { name: 'count', expr: 'count', direction: 'maximise' }];
    for (const specs of [two, three]) {
      for (let trial = 0; trial < 6; trial++) {
        const raws = Array.from({ length: 150 }, () => specs.map(() => Math.round(rng.next() * 10) / 10));
        const failed = raws.map((_, i) => i % 29 === 3);
        raws[17][1] = Number.NaN; // a term that could not be computed
        // Stored out of order: the archive follows the study's index order.
        const records = rng.shuffle(raws.map((r, i) => record(i, r, specs, failed[i])));
        const file = paretoFileOf({ study: 's', method: 'm', specs, archive: archiveOfStudy(specs, records) })!;
        expect(file.front.map((p) => p.trial).sort((a, b) => a - b)).toEqual(bruteFront(raws, failed, specs));
        expect(file.evaluations).toBe(150);
        // Values as the config defines them (a minimised objective is not negated).
        for (const p of file.front) expect(specs.map((o) => p.objectives[o.name])).toEqual(raws[p.trial]);
      }
    }
  });

  it('picks by weights or the knee deterministically; without weights the run chooses the knee', () => {
    // A convex front: fit up, overlap up; the knee is the balanced point.
    const raws = [
      [0.2, 0.0],
      [0.6, 0.05],
      [0.8, 0.15],
      [0.9, 0.5],
      [0.95, 0.9],
      [0.5, 0.5], // dominated
    ];
    const file = fileOf(two, raws);
    expect(file.front).toHaveLength(5);
    expect(file.chosen.by).toBe('knee');
    const knee = pickParetoPoint(file, 'knee');
    expect(knee.point.trial).toBe(2);
    expect(file.chosen.trial).toBe(2);
    expect(pickParetoPoint(file, 'knee')).toEqual(knee);
    // In two objectives the knee is the equal-weight pick (the line between the extremes).
    expect(pickParetoPoint(file, '1,1').point.trial).toBe(2);
    expect(pickParetoPoint(file, '1,0').point.trial).toBe(4); // fit only
    expect(pickParetoPoint(file, '0,1').point.trial).toBe(0); // overlap only (minimised)
    expect(pickParetoPoint(file, '0').position).toBe(0);
    expect(pickParetoPoint(file, '0').point.trial).toBe(4); // front order: fit descending
    // The config's weights choose instead of the knee.
    const weighted = fileOf(two.map((o, i) => ({ ...o, weight: [1, 0][i] })), raws);
    expect(weighted.chosen).toMatchObject({ by: 'weights', weights: [1, 0], trial: 4 });
  });

  it('--pick errors name the valid choices', () => {
    const file = fileOf(two, [
      [0.2, 0.0],
      [0.6, 0.05],
      [0.9, 0.5],
    ]);
    const err = (pick: string): SamstarError => {
      try {
        pickParetoPoint(file, pick, 'run/pareto.json');
      } catch (error) {
        expect(error).toBeInstanceOf(SamstarError);
        return error as SamstarError;
      }
      throw new Error(`--pick ${pick} did not fail`);
    };
    for (const pick of ['3', 'middle', '1,2,3', '-1,2', '0,0', 'a,b']) {
      const e = err(pick);
      expect(e.message).toContain(`--pick "${pick}"`);
      expect(e.hint).toContain('0–2');
      expect(e.hint).toContain('"knee"');
      expect(e.hint).toContain('fit, overlap');
    }
    expect(err('3').message).toContain("past the front's last point (2)");
    expect(err('1,2,3').message).toContain('3 weights for 2 objectives');
  });

  it('segment --knobs pareto.json needs --pick, and --pick needs a pareto.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'samstar-pareto-pick-'));
    const path = join(dir, 'pareto.json');
    const file = fileOf(two, [
      [0.2, 0.0],
      [0.9, 0.5],
    ]);
    writeFileSync(path, JSON.stringify(file));
    const picked = await knobInputOrPick(path, '1');
    expect(picked!.values).toEqual(file.front[1].knobs);
    expect(picked!.source).toContain('trial #0');
    await expect(knobInputOrPick(path, undefined)).rejects.toThrow(/choose one with --pick/);
    await expect(knobInputOrPick(undefined, 'knee')).rejects.toThrow(/--knobs OUT\/pareto.json/);
    await expect(knobInputOrPick('{"a": 1}', 'knee')).rejects.toThrow(/--knobs OUT\/pareto.json/);
    const plain = join(dir, 'knobs.json');
    writeFileSync(plain, JSON.stringify({ knobs: { a: 1 } }));
    await expect(knobInputOrPick(plain, undefined)).resolves.toBeUndefined();
    await expect(knobInputOrPick(plain, '0')).rejects.toThrow(/not a samstar pareto.json/);
  });
});
