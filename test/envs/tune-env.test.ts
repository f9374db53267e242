import { beforeAll, describe, expect, it } from 'vitest';
import { checkEnv } from '../../envs/check-env.js';
import { frameSourceOf, TuneEnv, type TuneEnvOptions } from '../../envs/tune-env.js';
import { compileReward, type CompiledReward } from '../../rewards/index.js';
import { generateSynthFrame, type SynthFrame } from '../../src/data/synth.js';
import { FEATURE_NAMES, frameFeatures } from '../../src/image/features.js';
import { KnobSpace, type KnobSpec } from '../../src/segmenters/knobs.js';
import { isSamstarError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { countDecoderRuns } from '../fixtures/decoder-runs.js';
import { loadBundledReward, useSamEnv } from './fixtures/sam-env.js';

function synth(seed: number, side = 128): SynthFrame {
  return generateSynthFrame({ width: side, height: side, count: 10, diameter: { median: 14, sigma: 0.2 } }, new Rng(seed), `synth-${seed}`);
}

function spearman(a: readonly number[], b: readonly number[]): number {
  const rank = (v: readonly number[]): number[] => {
    const order = v.map((x, i) => [x, i] as const).sort((p, q) => p[0] - q[0]);
    const r = new Array<number>(v.length);
    // Average ranks for ties.
    for (let i = 0; i < order.length; ) {
      let j = i;
      while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
      for (let k = i; k <= j; k++) r[order[k][1]] = (i + j) / 2;
      i = j + 1;
    }
    return r;
  };
  const ra = rank(a);
  const rb = rank(b);
  const mean = (ra.length - 1) / 2;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i] - mean) * (rb[i] - mean);
    da += (ra[i] - mean) ** 2;
    db += (rb[i] - mean) ** 2;
  }
  return num / Math.sqrt(da * db);
}

async function errorOf(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('TuneEnv', () => {
  // The env's reward is the supervised one; the science check also needs the physics reward.
  const fx = useSamEnv({ reward: 'supervised', frames: () => [1, 2, 3].map((s) => synth(s)), knobs: ['pred_iou_thresh', 'stability_score_thresh', 'mask_threshold'] });
  let physics: CompiledReward;
  beforeAll(async () => {
    physics = await loadBundledReward('nuclei');
  });

  const options = fx.options<TuneEnvOptions>(() => ({ truths: fx.frames.map((f) => f.labels), fixed: { points_per_side: 6 }, framesPerEpisode: 2, seed: 5 }));

  it('passes checkEnv', async () => {
    const { space: filterSpace } = fx;
    const env = new TuneEnv(options());
    const report = await checkEnv(env, { seed: 3 });
    expect(report).toEqual({ ok: true, errors: [], warnings: [] });
    expect(env.actionSpace.toJSON()).toEqual({ type: 'box', shape: [3], low: [-1, -1, -1], high: [1, 1, 1], names: filterSpace.names });
    expect(env.observationSpace.size).toBe(FEATURE_NAMES.length);
    expect(filterSpace.searchBounds()).toEqual({ low: [-1, -1, -1], high: [1, 1, 1], steps: [0, 0, 0.025] });
    await env.close();
  });

  it('is deterministic under a seed: the same frames, observations and rewards', async () => {
    const run = async (seed: number): Promise<{ frames: unknown[]; obs: number[][]; rewards: number[] }> => {
      const env = new TuneEnv(options({ seed: 99 }));
      const actionRng = new Rng(1);
      const out = { frames: [] as unknown[], obs: [] as number[][], rewards: [] as number[] };
      for (let episode = 0; episode < 4; episode++) {
        const { observation, info } = await env.reset(episode === 0 ? { seed } : {});
        out.frames.push(info.frames);
        out.obs.push(Array.from(observation));
        const { reward } = await env.step(env.actionSpace.sample(actionRng));
        out.rewards.push(reward);
      }
      await env.close();
      return out;
    };
    const a = await run(7);
    expect(await run(7)).toEqual(a);
    const episodes = await Promise.all([8, 9, 10].map((s) => run(s)));
    const draws = new Set([a, ...episodes].map((e) => JSON.stringify(e.frames)));
    expect(draws.size).toBeGreaterThan(1);
  });

  it('observes the mean frame features of the episode and reports frames and reward terms in info', async () => {
    const { frames, space: filterSpace } = fx;
    const env = new TuneEnv(options());
    const { observation, info } = await env.reset({ seed: 1, options: { frames: [0, 2] } });
    expect(info).toEqual({ frames: ['synth-1', 'synth-3'], frameIndices: [0, 2] });
    const f0 = frameFeatures(frames[0].frame);
    const f2 = frameFeatures(frames[2].frame);
    for (let k = 0; k < FEATURE_NAMES.length; k++) expect(observation[k]).toBeCloseTo((f0[k] + f2[k]) / 2, 9);
    const step = await env.step([0, 0.5, 0]);
    expect(step.terminated).toBe(true);
    expect(step.truncated).toBe(false);
    const { info: stepInfo } = step;
    expect(Object.keys(stepInfo.terms).sort()).toEqual(['f1', 'mean_iou', 'msa']);
    expect(stepInfo.perFrame.map((p) => p.frame)).toEqual(['synth-1', 'synth-3']);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(step.reward).toBeCloseTo(mean(stepInfo.perFrame.map((p) => p.total)), 12);
    expect(stepInfo.terms.msa).toBeCloseTo(mean(stepInfo.perFrame.map((p) => p.terms.msa)), 12);
    expect(stepInfo.objectives).toHaveLength(2);
    expect(stepInfo.knobs.points_per_side).toBe(6);
    expect(stepInfo.tuned).toEqual(filterSpace.fromNormalised([0, 0.5, 0]));
    expect(stepInfo.perFrame.every((p) => p.count >= 0 && p.ms >= 0)).toBe(true);
    expect(stepInfo.evalMs).toBeGreaterThanOrEqual(0);
    expect(() => JSON.stringify(stepInfo)).not.toThrow();
    // One step per episode.
    expect(isSamstarError(await errorOf(() => env.step([0, 0, 0])))).toBe(true);
    await env.close();
  });

  it('clips out-of-range actions with a flag, and rejects NaN, wrong lengths and steps before reset', async () => {
    const env = new TuneEnv(options());
    expect(String(await errorOf(() => env.step([0, 0, 0])))).toMatch(/before reset/);
    await env.reset({ seed: 2 });
    const clipped = await env.step([2, -3, 0.25]);
    expect(clipped.info.actionClipped).toBe(true);
    expect(clipped.info.action).toEqual([1, -1, 0.25]);
    await env.reset({ seed: 2 });
    const inside = await env.step([1, -1, 0.25]);
    expect(inside.info.actionClipped).toBe(false);
    expect(inside.reward).toBe(clipped.reward);
    expect(inside.info.knobs).toEqual(clipped.info.knobs);
    await env.reset({ seed: 2 });
    expect(String(await errorOf(() => env.step([NaN, 0, 0])))).toMatch(/action\[0\] \(pred_iou_thresh\) is NaN/);
    expect(String(await errorOf(() => env.step([0, 0])))).toMatch(/must be 3 numbers/);
    await env.close();
    expect(String(await errorOf(() => env.reset()))).toMatch(/closed/);
  });

  it('evaluate(knobs) shares the step path; validates knobs by name and range', async () => {
    const { space: filterSpace } = fx;
    const env = new TuneEnv(options());
    await env.reset({ seed: 4, options: { frames: [1, 2] } });
    const action = [0.3, -0.2, 0.1];
    const step = await env.step(action);
    const direct = await env.evaluate(filterSpace.fromNormalised(action), [1, 2]);
    expect(direct.reward).toBe(step.reward);
    expect(direct.terms).toEqual(step.info.terms);
    expect(direct.perFrame.map((p) => p.total)).toEqual(step.info.perFrame.map((p) => p.total));
    const all = await env.evaluate({ pred_iou_thresh: 0.5 });
    expect(all.frames).toEqual(['synth-1', 'synth-2', 'synth-3']);
    const range = await errorOf(() => env.evaluate({ pred_iou_thresh: 1.5 }));
    expect(isSamstarError(range) && range.code).toBe('KNOB_OUT_OF_RANGE');
    const unknown = await errorOf(() => env.evaluate({ pred_iou: 0.5 }));
    expect(isSamstarError(unknown) && unknown.code).toBe('KNOB_UNKNOWN');
    expect(String(await errorOf(() => env.evaluate({}, [3])))).toMatch(/frame index 3/);
    await env.close();
  });

  it('re-filtering never re-runs the model: only filter knobs change between steps', async () => {
    const { segmenter } = fx;
    const fresh = [synth(41, 96)];
    const runs = countDecoderRuns(segmenter);
    try {
      const env = new TuneEnv(options({ frames: fresh.map((f) => f.frame), truths: fresh.map((f) => f.labels), framesPerEpisode: 'all' }));
      const rng = new Rng(11);
      await env.reset({ seed: 1 });
      await env.step(env.actionSpace.sample(rng));
      expect(runs.n).toBe(36);
      for (let i = 0; i < 5; i++) {
        await env.reset();
        await env.step(env.actionSpace.sample(rng));
      }
      expect(runs.n).toBe(36);
      // A propose-stage knob in the tuned space does run the model for each new value.
      const withGrid = new TuneEnv(options({
        frames: fresh.map((f) => f.frame),
        truths: fresh.map((f) => f.labels),
        framesPerEpisode: 'all',
        space: new KnobSpace([{ ...segmenter.knobs.spec('points_per_side'), min: 6, max: 7 } as KnobSpec, segmenter.knobs.spec('pred_iou_thresh')]),
        fixed: {},
      }));
      await withGrid.reset();
      await withGrid.step([1, 0]);
      expect(runs.n).toBe(36 + 49);
      await withGrid.close();
      await env.close();
    } finally {
      runs.restore();
    }
  });

  it('takes frames from a loader as well as from an array', async () => {
    const { frames } = fx;
    const fromArray = new TuneEnv(options({ framesPerEpisode: 'all' }));
    const loads: number[] = [];
    const source = frameSourceOf(frames.map((f) => f.frame), frames.map((f) => f.labels));
    const fromLoader = new TuneEnv(options({ framesPerEpisode: 'all', frames: { ...source, load: (i) => (loads.push(i), source.load(i)) }, truths: undefined }));
    const a = await fromArray.reset({ seed: 1 });
    const b = await fromLoader.reset({ seed: 1 });
    expect(Array.from(b.observation)).toEqual(Array.from(a.observation));
    expect(b.info.frames).toEqual(a.info.frames);
    const ra = await fromArray.step([0.1, 0.1, 0.1]);
    const rb = await fromLoader.step([0.1, 0.1, 0.1]);
    expect(rb.reward).toBe(ra.reward);
    await fromLoader.reset();
    await fromLoader.step([0, 0, 0]);
    expect(loads).toEqual([0, 1, 2]);
    await fromArray.close();
    await fromLoader.close();
  });

  it('rejects inconsistent setups with clear errors', async () => {
    const { segmenter, frames } = fx;
    const codeOf = (extra: Partial<TuneEnvOptions>): string => {
      try {
        new TuneEnv(options(extra));
      } catch (e) {
        return isSamstarError(e) ? `${e.code}: ${e.message}` : String(e);
      }
      return 'no error';
    };
    expect(codeOf({ fixed: { points_per_side: 6, pred_iou_thresh: 0.5 } })).toMatch(/both tuned and fixed/);
    expect(codeOf({ truths: undefined })).toMatch(/needs ground truth/);
    expect(codeOf({ truths: [frames[0].labels] })).toMatch(/1 truths for 3 frames/);
    expect(codeOf({ framesPerEpisode: 4 })).toMatch(/framesPerEpisode/);
    expect(codeOf({ frames: [], truths: [] })).toMatch(/no frames/);
    expect(codeOf({ fixed: { points_per_side: 1000 } })).toMatch(/KNOB_OUT_OF_RANGE/);
    expect(codeOf({ space: new KnobSpace([{ ...segmenter.knobs.spec('pred_iou_thresh'), max: 2 } as KnobSpec]) })).toMatch(/exceeds the segmenter/);
    expect(codeOf({ space: new KnobSpace([{ ...segmenter.knobs.spec('pred_iou_thresh'), name: 'pred_iou' }]) })).toMatch(/KNOB_UNKNOWN/);
    expect(codeOf({ workers: 0 })).toMatch(/workers/);
    expect(codeOf({ segmenter: undefined })).toMatch(/segmenter or an evaluator/);
  });

  it('science check: on synthetic frames the physics reward ranks knob settings like mSA against the hidden truth', async () => {
    const { segmenter } = fx;
    // Generator defaults (fluorescence-nuclei-like bright particles) on 256² frames; nuclei.yaml needs no labels.
    const data = [101, 102].map((s) => generateSynthFrame({ width: 256, height: 256 }, new Rng(s), `science-${s}`));
    const common = { segmenter, frames: data.map((d) => d.frame), space: segmenter.knobs.subset(['pred_iou_thresh', 'stability_score_thresh', 'stability_score_offset', 'mask_threshold', 'box_nms_thresh', 'min_mask_region_area']), fixed: { points_per_side: 12 }, framesPerEpisode: 'all' as const };
    const physicsEnv = new TuneEnv({ ...common, reward: physics });
    const truthEnv = new TuneEnv({ ...common, truths: data.map((d) => d.labels), reward: compileReward({ terms: { msa: {} }, total: 'msa' }) });
    const rng = new Rng(2024);
    const rewards: number[] = [];
    const msas: number[] = [];
    for (let k = 0; k < 20; k++) {
      const action = Array.from({ length: 6 }, () => rng.uniform(-1, 1));
      // min_mask_region_area spans 0..100000: keep it to its small end, where it matters.
      action[5] = -1 + 0.002 * rng.next();
      await physicsEnv.reset();
      await truthEnv.reset();
      rewards.push((await physicsEnv.step(action)).reward);
      msas.push((await truthEnv.step(action)).reward);
    }
    const rho = spearman(rewards, msas);
    // Empty segmentations (mSA 0, worst reward) are easy to rank; the non-empty ones are the real test.
    const kept = msas.map((_, i) => i).filter((i) => msas[i] > 0);
    const rhoNonEmpty = spearman(kept.map((i) => rewards[i]), kept.map((i) => msas[i]));
    console.log(
      `science check: Spearman(physics reward nuclei.yaml, mSA) over 20 knob settings = ${rho.toFixed(3)} ` +
        `(${kept.length} non-empty: ${rhoNonEmpty.toFixed(3)}); mSA range ${Math.min(...msas).toFixed(3)}–${Math.max(...msas).toFixed(3)}`,
    );
    expect(new Set(msas).size).toBeGreaterThan(5);
    expect(rho).toBeGreaterThan(0.3);
    await physicsEnv.close();
    await truthEnv.close();
  });
});
