import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkEnv } from '../../envs/check-env.js';
import { InProcessEvaluator } from '../../envs/evaluator.js';
import { TuneEnv } from '../../envs/tune-env.js';
import { WorkerPoolEvaluator } from '../../envs/worker-evaluator.js';
import type { CompiledReward } from '../../rewards/index.js';
import { generateSynthFrame, type SynthFrame } from '../../src/data/synth.js';
import { SamSegmenter } from '../../src/segmenters/sam/segmenter.js';
import { isSamstarError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { WorkerPool } from '../../src/util/worker-pool.js';
import { loadBundledReward } from './fixtures/sam-env.js';

/**
 * One pool of two worker threads for the whole file (starting workers from
 * sources costs seconds: tsx, mathjs and onnxruntime load in each).
 */
describe('frame-parallel evaluation in worker threads', () => {
  let segmenter: SamSegmenter;
  let reward: CompiledReward;
  let data: SynthFrame[];
  let env: TuneEnv;
  let local: TuneEnv;
  let pool: WorkerPoolEvaluator;

  beforeAll(async () => {
    segmenter = await SamSegmenter.load();
    reward = await loadBundledReward('supervised');
    data = [1, 2].map((s) => generateSynthFrame({ width: 112, height: 96, count: 8, diameter: { median: 14, sigma: 0.2 } }, new Rng(300 + s), `pool-${s}`));
    const common = {
      segmenter,
      frames: data.map((d) => d.frame),
      truths: data.map((d) => d.labels),
      reward,
      space: segmenter.knobs.subset(['pred_iou_thresh', 'stability_score_thresh', 'mask_threshold']),
      fixed: { points_per_side: 5 },
      framesPerEpisode: 'all' as const,
      seed: 1,
    };
    env = new TuneEnv({ ...common, workers: 2 });
    local = new TuneEnv(common);
    pool = (await env.evaluator()) as WorkerPoolEvaluator;
  });
  afterAll(async () => {
    await env?.close();
    await local?.close();
    await segmenter?.dispose();
  });

  it('gives exactly the in-process rewards, frames pinned to workers by hash, caches reused in the workers', async () => {
    expect(pool).toBeInstanceOf(WorkerPoolEvaluator);
    expect(pool.workers).toBe(2);
    expect(pool.knobs.names).toEqual(segmenter.knobs.names);
    const rng = new Rng(8);
    for (let k = 0; k < 4; k++) {
      const action = Array.from({ length: 3 }, () => rng.uniform(-1, 1));
      await env.reset();
      await local.reset();
      const a = await env.step(action);
      const b = await local.step(action);
      expect(a.reward).toBe(b.reward);
      expect(a.info.terms).toEqual(b.info.terms);
      expect(a.info.perFrame.map((p) => [p.frame, p.total, p.count])).toEqual(b.info.perFrame.map((p) => [p.frame, p.total, p.count]));
      expect(a.info.knobs).toEqual(b.info.knobs);
    }
    // Two frames on two workers: one each, each frame always on the same worker.
    const pins = data.map((d) => pool.workerOf({ id: d.frame.source, frame: d.frame }));
    expect([...pins].sort()).toEqual([0, 1]);
    const stats = await pool.stats();
    // Only filter knobs changed: the model ran once per prompt (5×5) per frame, in the frame's worker.
    expect(stats.map((s) => s.decoderRuns)).toEqual([0, 1].map((w) => 25 * pins.filter((p) => p === w).length));
    expect(stats.map((s) => s.frames)).toEqual([0, 1].map((w) => pins.filter((p) => p === w).length));
    expect(stats.reduce((n, s) => n + s.evaluations, 0)).toBe(4 * 2);
  });

  it('passes checkEnv with the worker evaluator', async () => {
    expect(await checkEnv(env, { seed: 2 })).toEqual({ ok: true, errors: [], warnings: [] });
  });

  it('evaluators agree on direct evaluation; worker errors come back as SamstarErrors with their code', async () => {
    const items = data.map((d) => ({ id: d.frame.source, frame: d.frame, truth: d.labels }));
    const knobs = segmenter.knobs.resolve({ points_per_side: 5, pred_iou_thresh: 0.5, stability_score_thresh: 0.6 });
    const inProcess = await new InProcessEvaluator(segmenter, reward).evaluate(knobs, items);
    const inWorkers = await pool.evaluate(knobs, items);
    expect(inWorkers.map((r) => [r.frame, r.total, r.terms, r.objectives])).toEqual(inProcess.map((r) => [r.frame, r.total, r.terms, r.objectives]));
    const error = await pool.evaluate({ ...knobs, pred_iou_thresh: 7 }, items.slice(0, 1)).catch((e: unknown) => e);
    expect(isSamstarError(error) && error.code).toBe('KNOB_OUT_OF_RANGE');
    expect(String((error as Error).message)).toContain('pred_iou_thresh');
    // The pool is still usable after an error.
    expect((await pool.evaluate(knobs, items.slice(0, 1)))[0].total).toBe(inProcess[0].total);
  });
});

describe('WorkerPool', () => {
  const entry = new URL('./fixtures/echo-worker.ts', import.meta.url);

  it('pins keys sticky least-loaded, runs requests per worker in order, rebuilds errors, survives them', async () => {
    const pool = await WorkerPool.start<Record<string, unknown>, unknown, { index: number }>({ entry, size: 2 });
    try {
      expect(pool.ready).toEqual([{ index: 0 }, { index: 1 }]);
      expect(['a', 'b', 'c', 'd', 'a', 'c'].map((k) => pool.pin(k))).toEqual([0, 1, 0, 1, 0, 0]);
      expect(await pool.request(1, { op: 'echo', value: { x: [1, 2] } })).toEqual({ index: 1, value: { x: [1, 2] } });
      const error = await pool.request(0, { op: 'fail' }).catch((e: unknown) => e);
      expect(isSamstarError(error) && error.code).toBe('KNOB_INVALID');
      expect(isSamstarError(error) && error.hint).toBe('by design');
      // One request at a time per worker, in arrival order, even when the first is slower.
      const [first, second] = await Promise.all([pool.request(0, { op: 'slow', ms: 50, value: 1 }), pool.request(0, { op: 'slow', ms: 0, value: 2 })]);
      expect(first).toEqual([1]);
      expect(second).toEqual([1, 2]);
      // A crashed worker rejects its requests; the other one goes on.
      const crash = await pool.request(1, { op: 'crash' }).catch((e: unknown) => e);
      expect(String(crash)).toMatch(/worker 1 exited/);
      expect(String(await pool.request(1, { op: 'echo', value: 1 }).catch((e: unknown) => e))).toMatch(/worker 1 exited/);
      expect(await pool.request(0, { op: 'echo', value: 2 })).toEqual({ index: 0, value: 2 });
    } finally {
      await pool.close();
    }
    expect(String(await pool.request(0, { op: 'echo', value: 1 }).catch((e: unknown) => e))).toMatch(/closed/);
  });

  it('reports a failed worker setup as the worker\'s error', async () => {
    const error = await WorkerPool.start({ entry, size: 2, workerData: { failSetup: true } }).catch((e: unknown) => e);
    expect(isSamstarError(error) && error.code).toBe('CONFIG_INVALID');
    expect(String((error as Error).message)).toContain('setup failed on purpose');
  });
});
