import { describe, expect, it } from 'vitest';
import { bestCurve, buildCompareSummary, compareCsv, reachThreshold, type RunInput } from '../../src/compare/summary.js';
import type { EvaluationRecord, StudyInfo } from '../../src/store/index.js';
import { syntheticTask } from '../report/fixtures.js';

function evaluation(index: number, total: number, ms = 1000): EvaluationRecord {
  return { index, generation: index, candidate: 0, x: [0], knobs: { pred_iou_thresh: 0.5 + index / 100, stability_score_thresh: 0.9 }, total, terms: { size: total }, frames: [0], ms, created: '' };
}

function study(agent: string, seed: number, status: StudyInfo['status'] = 'finished'): StudyInfo {
  return {
    id: seed, name: `${agent}-${seed}`, created: '', updated: '', status, seed, agent, agentOptions: {}, knobSpace: [], config: {}, budget: 4,
    default: { total: 0.2, terms: { size: 0.2 }, extra: { knobs: { pred_iou_thresh: 0.88, stability_score_thresh: 0.95, points_per_side: 16 } } },
    stopReasons: [], message: null, pid: null, host: null, evaluations: 4, failed: 0, best: null,
  };
}

function run(agent: string, seed: number, totals: number[], status: StudyInfo['status'] = 'finished'): RunInput {
  return { agent, seed, folder: `runs/${agent}-seed${seed}`, study: study(agent, seed, status), evaluations: totals.map((t, i) => evaluation(i, t)) };
}

describe('compare summary', () => {
  // Best of all: 1.0 (a, seed 2). Thresholds: 0.9 and 0.95.
  const runs = [
    run('a', 1, [0.1, 0.5, 0.92, 0.93]), // reaches 0.9 at evaluation 3 (3 s), never 0.95
    run('a', 2, [0.3, Number.NaN, 1.0, 0.2]), // reaches both at evaluation 3
    run('b', 1, [0.4, 0.6, 0.7, 0.8]),
    run('b', 2, [0.5, 0.55, 0.6, 0.96]), // reaches both at evaluation 4
  ];
  const summary = buildCompareSummary({ kind: 'compare', task: syntheticTask(), agents: ['a', 'b'], seeds: [1, 2], budget: 4, runs });

  it('best reward per agent: mean ± sample std over seeds', () => {
    const a = summary.perAgent[0];
    expect(a.bestValues).toEqual([0.93, 1.0]);
    expect(a.best.mean).toBeCloseTo(0.965, 12);
    expect(a.best.std).toBeCloseTo(Math.sqrt(2 * 0.035 ** 2), 12);
    expect(summary.best).toEqual({ total: 1.0, agent: 'a', seed: 2 });
    expect(a.bestRun).toMatchObject({ seed: 2, total: 1.0, knobs: { pred_iou_thresh: 0.52, stability_score_thresh: 0.9 } });
  });

  it('evaluations and time to reach 90 % / 95 % of the best found by any agent', () => {
    expect(summary.thresholds['90%']).toBeCloseTo(0.9, 12);
    expect(summary.thresholds['95%']).toBeCloseTo(0.95, 12);
    const a = summary.perAgent[0];
    expect(a.reach['90%'].reached).toBe(2);
    expect(a.reach['90%'].evaluations.mean).toBe(3);
    expect(a.reach['90%'].seconds.mean).toBe(3);
    expect(a.reach['95%'].reached).toBe(1);
    const b = summary.perAgent[1];
    expect(b.reach['90%']).toMatchObject({ reached: 1, evaluations: { mean: 4 } });
    expect(summary.runs[2].reach['90%']).toBeNull();
  });

  it('thresholds for negative rewards stay below the best', () => {
    expect(reachThreshold(-2, 0.9)).toBeCloseTo(-2.2, 12);
    expect(reachThreshold(0.5, 0.9)).toBeCloseTo(0.45, 12);
  });

  it('curves are the best so far, null before the first finite reward', () => {
    expect(bestCurve([evaluation(0, Number.NaN), evaluation(1, 0.3), evaluation(2, 0.2), evaluation(3, 0.5)])).toEqual([null, 0.3, 0.3, 0.5]);
    expect(summary.runs[1].curve).toEqual([0.3, 0.3, 1.0, 1.0]);
    expect(summary.runs[1].failed).toBe(1);
  });

  it('Mann–Whitney between the agents: a = {0.93, 1.0} vs b = {0.8, 0.96} → U = 3, exact p = 2·P(U ≥ 3) = 2·(1/6 + 1/6) = 0.667', () => {
    expect(summary.tests).toHaveLength(1);
    const t = summary.tests[0];
    expect(t).toMatchObject({ a: 'a', b: 'b', n1: 2, n2: 2, u: 3, method: 'exact' });
    expect(t.p).toBeCloseTo(2 / 3, 12);
    expect(t.effect).toBe(0.75);
  });

  it('is partial when a run is interrupted or never started', () => {
    const partial = buildCompareSummary({
      kind: 'compare',
      task: syntheticTask(),
      agents: ['a', 'b'],
      seeds: [1, 2],
      budget: 4,
      runs: [runs[0], run('a', 2, [0.5], 'interrupted'), runs[2], { agent: 'b', seed: 2, folder: 'runs/b-seed2', study: null, evaluations: [] }],
      interrupted: true,
    });
    expect(partial.status).toBe('partial');
    expect(partial.runs.map((r) => r.status)).toEqual(['finished', 'interrupted', 'finished', 'not started']);
    expect(partial.perAgent[0].finished).toBe(1);
    expect(partial.perAgent[1].best.n).toBe(1);
    expect(summary.status).toBe('complete');
    // Valid JSON all the way (no NaN, no undefined in arrays).
    expect(JSON.parse(JSON.stringify(partial))).toMatchObject({ status: 'partial', format: 'samstar-compare' });
  });

  it('the CSV has one row per agent with the same numbers', () => {
    const lines = compareCsv(summary).trim().split('\n');
    expect(lines).toHaveLength(3);
    const header = lines[0].split(',');
    const row = lines[1].split(',');
    expect(row[header.indexOf('agent')]).toBe('a');
    expect(Number(row[header.indexOf('best_mean')])).toBe(summary.perAgent[0].best.mean);
    expect(Number(row[header.indexOf('evaluations_to_90_mean')])).toBe(3);
    expect(row[header.indexOf('msa_mean')]).toBe('');
  });
});
