import { describe, expect, it } from 'vitest';
import {
  factorialPoints,
  GridAgent,
  gridValues,
  MICRO_SAM_PRED_IOU,
  MICRO_SAM_STABILITY,
  microSamGrid,
  microSamGridAgent,
} from '../../agents/grid.js';
import { makeBox } from '../../agents/bo-box.js';
import { RandomSearch } from '../../agents/random.js';
import { createAgent, parseAgentOptions } from '../../agents/registry.js';
import type { AskTellAgent, SearchBounds } from '../../agents/types.js';
import { samKnobSpace } from '../../src/segmenters/sam/knob-specs.js';
import { SamstarError } from '../../src/util/errors.js';
import { describeAgentConformance } from './conformance.js';
import { thrown } from '../fixtures/thrown.js';

const box = (d: number, steps?: number[]): SearchBounds => ({ low: new Array(d).fill(-1), high: new Array(d).fill(1), steps });


function askAll(agent: AskTellAgent, f: (x: number[]) => number = () => 0): number[][] {
  const all: number[][] = [];
  for (let guard = 0; guard < 10_000 && agent.stop().length === 0; guard++) {
    const xs = agent.ask();
    if (xs.length === 0) break;
    all.push(...xs);
    agent.tell(xs, xs.map(f));
  }
  return all;
}

describe('grid search', () => {
  it('enumerates a factorial with the first dimension slowest and the last fastest', () => {
    expect(factorialPoints([[10, 20], [1, 2, 3]])).toEqual([
      [10, 1],
      [10, 2],
      [10, 3],
      [20, 1],
      [20, 2],
      [20, 3],
    ]);
    const agent = GridAgent.fromOptions({ low: [0, 0], high: [30, 5] }, 1, { values: [[10, 20], [1, 2, 3]], batch: 4 });
    expect(agent.ask()).toEqual([
      [10, 1],
      [10, 2],
      [10, 3],
      [20, 1],
    ]);
    agent.tell([[10, 1], [10, 2], [10, 3], [20, 1]], [1, 5, 2, NaN]);
    expect(agent.stop()).toEqual([]);
    expect(agent.ask()).toEqual([
      [20, 2],
      [20, 3],
    ]);
    agent.tell([[20, 2], [20, 3]], [3, 4]);
    expect(agent.stop()).toEqual(['exhausted']);
    expect(agent.ask()).toEqual([]);
    expect(agent.best()).toEqual({ x: [10, 2], reward: 5 });
  });

  it('spaces pointsPerDim evenly with both ends, snapping stepped dimensions and dropping duplicates', () => {
    const b = makeBox(box(2, [0, 1]), 'grid');
    expect(gridValues(b, { pointsPerDim: 5 })).toEqual([
      [-1, -0.5, 0, 0.5, 1],
      [-1, 0, 1],
    ]);
    expect(gridValues(b, { pointsPerDim: [3, 2] })).toEqual([
      [-1, 0, 1],
      [-1, 1],
    ]);
    const agent = GridAgent.fromOptions(box(3), 1, { pointsPerDim: 3 });
    expect(agent.size).toBe(27);
    expect(askAll(agent)).toHaveLength(27);
    expect(agent.stop()).toContain('exhausted');
  });

  it('stops at maxEvaluations with `budget`, shuffles reproducibly, and rejects bad input', () => {
    const agent = GridAgent.fromOptions(box(2), 1, { pointsPerDim: 4, maxEvaluations: 5, batch: 3 });
    expect(askAll(agent)).toHaveLength(5);
    expect(agent.stop()).toEqual(['budget']);
    const a = GridAgent.fromOptions(box(2), 3, { pointsPerDim: 4, shuffle: true }).allPoints();
    const b = GridAgent.fromOptions(box(2), 3, { pointsPerDim: 4, shuffle: true }).allPoints();
    const c = GridAgent.fromOptions(box(2), 4, { pointsPerDim: 4, shuffle: true }).allPoints();
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect([...a].sort()).toEqual(GridAgent.fromOptions(box(2), 3, { pointsPerDim: 4 }).allPoints().sort());
    expect(thrown(() => GridAgent.fromOptions(box(2), 1, { values: [[0], [2]] })).message).toMatch(/outside/);
    expect(thrown(() => GridAgent.fromOptions(box(12), 1, { pointsPerDim: 5 })).message).toMatch(/244140625 points/);
    expect(thrown(() => GridAgent.fromPoints([[0, 0], [1]])).message).toMatch(/point 1/);
    expect(thrown(() => GridAgent.fromPoints([[0, 3]], { bounds: box(2) })).message).toMatch(/outside/);
  });

  it('builds the 210-point micro-sam preset (14 pred_iou × 15 stability) with exact values', () => {
    expect(MICRO_SAM_PRED_IOU).toEqual([0.6, 0.625, 0.65, 0.675, 0.7, 0.725, 0.75, 0.775, 0.8, 0.825, 0.85, 0.875, 0.9, 0.925]);
    expect(MICRO_SAM_STABILITY).toEqual([0.6, 0.625, 0.65, 0.675, 0.7, 0.725, 0.75, 0.775, 0.8, 0.825, 0.85, 0.875, 0.9, 0.925, 0.95]);
    const grid = microSamGrid();
    expect(grid).toHaveLength(210);
    expect(grid[0]).toEqual({ pred_iou_thresh: 0.6, stability_score_thresh: 0.6 });
    expect(grid[1]).toEqual({ pred_iou_thresh: 0.6, stability_score_thresh: 0.625 });
    expect(grid[15]).toEqual({ pred_iou_thresh: 0.625, stability_score_thresh: 0.6 });
    expect(grid[209]).toEqual({ pred_iou_thresh: 0.925, stability_score_thresh: 0.95 });
    expect(new Set(grid.map((g) => `${g.pred_iou_thresh}/${g.stability_score_thresh}`)).size).toBe(210);
  });

  it('maps the preset into the normalised box through the knob space, and round-trips to the same knob values', () => {
    const space = samKnobSpace().subset(['points_per_side', 'pred_iou_thresh', 'stability_score_thresh']);
    const agent = microSamGridAgent((v) => space.toNormalised(v), { batch: 50, bounds: box(3, [2 / 124, 0, 0]) });
    const points = askAll(agent);
    expect(points).toHaveLength(210);
    expect(agent.stop()).toEqual(['exhausted']);
    points.forEach((p, i) => {
      const knobs = space.fromNormalised(p);
      expect(knobs.points_per_side).toBe(32); // untouched knobs stay at their defaults
      expect(Math.fround(knobs.pred_iou_thresh as number)).toBe(Math.fround(microSamGrid()[i].pred_iou_thresh));
      expect(Math.fround(knobs.stability_score_thresh as number)).toBe(Math.fround(microSamGrid()[i].stability_score_thresh));
    });
    // Without stability among the tuned knobs the preset collapses: a clear error.
    const partial = samKnobSpace().subset(['pred_iou_thresh']);
    expect(thrown(() => microSamGridAgent((v) => partial.toNormalised(v))).hint).toMatch(/stability_score_thresh/);
  });
});

describe('random search', () => {
  it('is reproducible under a seed, stays in the box, and stops at the budget', () => {
    const run = (seed: number): number[][] => askAll(new RandomSearch(box(3), seed, { maxEvaluations: 25, batch: 4 }));
    const a = run(5);
    expect(a).toHaveLength(25);
    expect(a).toEqual(run(5));
    expect(a).not.toEqual(run(6));
    for (const x of a) for (const v of x) expect(Math.abs(v)).toBeLessThanOrEqual(1);
    const agent = new RandomSearch(box(1), 1, { maxEvaluations: 3 });
    askAll(agent);
    expect(agent.stop()).toEqual(['budget']);
    expect(agent.ask()).toEqual([]);
  });

  it('draws every lattice level of a stepped dimension, ends included, and nothing else', () => {
    const agent = new RandomSearch({ low: [-1, 0], high: [1, 1], steps: [0.5, 0] }, 2, { batch: 400 });
    const xs = agent.ask();
    const levels = new Set(xs.map((x) => x[0]));
    expect([...levels].sort((a, b) => a - b)).toEqual([-1, -0.5, 0, 0.5, 1]);
    for (const level of levels) expect(xs.filter((x) => x[0] === level).length).toBeGreaterThan(50);
  });

  it('keeps the best finite reward and checks tell()', () => {
    const agent = new RandomSearch(box(2), 1, { batch: 3 });
    const xs = agent.ask();
    expect(() => agent.tell(xs.slice(0, 2), [1, 2])).toThrow(SamstarError);
    agent.tell(xs, [NaN, 2, 1]);
    expect(agent.best()).toEqual({ x: xs[1], reward: 2 });
  });
});

describe('grid preset through the registry', () => {
  const bounds = box(2);

  it('builds the micro-sam grid preset from the context', () => {
    const space = samKnobSpace().subset(['pred_iou_thresh', 'stability_score_thresh']);
    const agent = createAgent('grid', bounds, 1, { preset: 'micro-sam', batch: 30 }, { toNormalised: (v) => space.toNormalised(v) });
    expect(askAll(agent)).toHaveLength(210);
    expect(thrown(() => createAgent('grid', bounds, 1, { preset: 'micro-sam' })).hint).toContain('toNormalised');
    expect(thrown(() => parseAgentOptions('grid', { preset: 'microsam' })).message).toContain('agent.options.preset');
  });
});

// The default 5-per-dimension grid has 625 points in 4-D; the quadratic test walks all of them (fixed order).
describeAgentConformance('grid', (bounds, seed) => GridAgent.fromOptions(bounds, seed), { budget: 625, gridCandidates: true });
describeAgentConformance('grid (shuffled, batches of 7)', (bounds, seed) => GridAgent.fromOptions(bounds, seed, { shuffle: true, batch: 7 }), {
  budget: 625,
  gridCandidates: true,
  seedSensitive: true,
});
describeAgentConformance('random', (bounds, seed) => new RandomSearch(bounds, seed), { gridCandidates: true, seedSensitive: true });
describeAgentConformance('random (batches of 5)', (bounds, seed) => new RandomSearch(bounds, seed, { batch: 5 }), { gridCandidates: true });
