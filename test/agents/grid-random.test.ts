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
import { AGENT_NAMES, agentConfigSchema, createAgent, parseAgentConfig, parseAgentOptions } from '../../agents/registry.js';
import type { AskTellAgent, SearchBounds } from '../../agents/types.js';
import { samKnobSpace } from '../../src/segmenters/sam/knob-specs.js';
import { SamstarError } from '../../src/util/errors.js';
import { describeAgentConformance } from './conformance.js';

const box = (d: number, steps?: number[]): SearchBounds => ({ low: new Array(d).fill(-1), high: new Array(d).fill(1), steps });

/** The error a function throws, as a SamstarError (fails the test if it does not throw one). */
function thrown(f: () => unknown): SamstarError {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(SamstarError);
    return error as SamstarError;
  }
  throw new Error('expected an error');
}

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

describe('agent registry', () => {
  const bounds = box(2);

  it('creates every agent by name with validated options', () => {
    expect([...AGENT_NAMES]).toEqual(['cmaes', 'bo', 'grid', 'random']);
    for (const name of AGENT_NAMES) {
      const agent = createAgent(name, bounds, 1, {}, { budget: 12 });
      expect(agent.name).toBe(name);
      expect(agent.dimension).toBe(2);
      const xs = agent.ask();
      expect(xs.length).toBeGreaterThan(0);
      agent.tell(xs, xs.map((x) => -x[0] * x[0] - x[1] * x[1]));
    }
    // The context budget becomes maxEvaluations unless the options set it.
    const random = createAgent('random', bounds, 1, { batch: 5 }, { budget: 10 });
    expect(askAll(random)).toHaveLength(10);
    expect(askAll(createAgent('random', bounds, 1, { batch: 5, maxEvaluations: 5 }, { budget: 10 }))).toHaveLength(5);
  });

  it('names unknown option keys with a suggestion, and bad values with their path', () => {
    const e = thrown(() => parseAgentOptions('bo', { refitEvry: 3 }));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain('agent.options.refitEvry');
    expect(e.message).toContain('"bo"');
    expect(e.hint).toContain('did you mean "refitEvery"');
    expect(thrown(() => parseAgentOptions('cmaes', { sigma: 0.3 })).hint).toContain('"sigma0"');
    const bad = thrown(() => parseAgentOptions('random', { batch: 0 }));
    expect(bad.message).toContain('agent.options.batch = 0');
    expect(thrown(() => parseAgentOptions('grid', { values: [[0, 'a']] })).message).toContain('agent.options.values.0.1');
    expect(thrown(() => createAgent('bayes', bounds, 1)).hint).toContain('known: cmaes, bo, grid, random');
    expect(thrown(() => createAgent('radnom', bounds, 1)).hint).toContain('did you mean "random"');
  });

  it('parses { name, options } blocks and offers a zod schema with the same checks', () => {
    expect(parseAgentConfig({ name: 'bo', options: { batch: 2 } })).toEqual({ name: 'bo', options: { batch: 2 } });
    expect(parseAgentConfig('grid')).toEqual({ name: 'grid', options: {} });
    expect(thrown(() => parseAgentConfig({ name: 'bo', option: {} }, 'task.agent')).message).toContain('task.agent.option');
    const result = agentConfigSchema.safeParse({ name: 'grid', options: { pointPerDim: 3 } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0].message).toContain('did you mean "pointsPerDim"');
    expect(agentConfigSchema.parse({ name: 'random' })).toEqual({ name: 'random', options: {} });
  });

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
