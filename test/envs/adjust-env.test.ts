import { describe, expect, it } from 'vitest';
import { AdjustEnv, segmentationStats, type AdjustEnvOptions } from '../../envs/adjust-env.js';
import { checkEnv } from '../../envs/check-env.js';
import { evaluateReward } from '../../rewards/index.js';
import { generateSynthFrame, type SynthFrame } from '../../src/data/synth.js';
import { FEATURE_NAMES } from '../../src/image/features.js';
import { masksToLabelImage } from '../../src/masks/label-image.js';
import { Rng } from '../../src/util/rng.js';
import { useSamEnv } from './fixtures/sam-env.js';

function synth(seed: number): SynthFrame {
  return generateSynthFrame({ width: 96, height: 96, count: 6, diameter: { median: 14, sigma: 0.2 } }, new Rng(seed), `adjust-${seed}`);
}

describe('AdjustEnv', () => {
  const fx = useSamEnv({ load: { intraOpThreads: 1 }, reward: 'nuclei', frames: () => [1, 2].map(synth), knobs: ['pred_iou_thresh', 'stability_score_thresh'] });

  const options = fx.options<AdjustEnvOptions>(() => ({ fixed: { points_per_side: 4 }, maxSteps: 3, seed: 3 }));

  it('passes checkEnv (spaces, types, determinism under a seed, clipping reported)', async () => {
    const env = new AdjustEnv(options());
    const report = await checkEnv(env, { seed: 4, steps: 5 });
    expect(report.errors).toEqual([]);
    expect(report.warnings).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('observes features, knobs, segmentation statistics and the step budget; the action has a stop entry', async () => {
    const { segmenter, reward, frames, space } = fx;
    const env = new AdjustEnv(options());
    expect(env.actionSpace.names).toEqual(['pred_iou_thresh', 'stability_score_thresh', 'stop']);
    const names = env.observationSpace.names!;
    expect(names.slice(0, FEATURE_NAMES.length)).toEqual(FEATURE_NAMES);
    expect(names.slice(FEATURE_NAMES.length)).toEqual([
      'knob_pred_iou_thresh',
      'knob_stability_score_thresh',
      'seg_count',
      'seg_mean_area',
      'seg_coverage',
      'reward_total',
      'reward_size',
      'reward_shape',
      'reward_coverage',
      'steps_left',
    ]);
    const { observation, info } = await env.reset({ seed: 1, options: { frame: 0 } });
    const at = (name: string) => observation[names.indexOf(name)];
    expect(at('knob_pred_iou_thresh')).toBeCloseTo(space.toNormalised(space.defaults())[0], 12);
    expect(at('steps_left')).toBe(1);
    // The statistics are those of the default knobs' segmentation.
    const seg = await segmenter.segment(frames[0].frame, env.resolve(space.toNormalised(space.defaults())));
    const r = evaluateReward(reward, seg, { frame: frames[0].frame });
    const stats = segmentationStats(seg, r);
    expect(at('seg_count')).toBe(seg.instances.length);
    expect(at('reward_total')).toBe(r.total);
    expect(info.total).toBe(r.total);
    // Coverage = the union of the masks over the frame.
    const union = masksToLabelImage(seg.instances.map((i) => i.segmentation), seg.width, seg.height).data.reduce((a, v) => a + (v ? 1 : 0), 0);
    expect(stats.coverage).toBeCloseTo(union / (seg.width * seg.height), 12);
  });

  it('moves knobs by stepSize·a, rewards the change of the total, stops on the stop entry and truncates after maxSteps', async () => {
    const { space } = fx;
    const env = new AdjustEnv(options({ maxSteps: 3, stepSize: 0.5 }));
    const start = await env.reset({ options: { frame: 1, knobs: [0.6, 0.8] } });
    const first = start.info.total as number;
    const a = await env.step([-1, -1, -1]);
    expect(a.info.x).toEqual([0.6 - 0.5, 0.8 - 0.5]);
    expect(a.reward).toBeCloseTo(a.info.total - first, 12);
    expect(a.terminated).toBe(false);
    const b = await env.step([-1, -0.5, -0.2]);
    // Out-of-range entries are clipped and reported.
    const c = await env.step([3, 0, -1]);
    expect(c.info.actionClipped).toBe(true);
    expect(c.truncated).toBe(true);
    expect(c.terminated).toBe(false);
    // The return telescopes: total(final) − total(start).
    expect(a.reward + b.reward + c.reward).toBeCloseTo(c.info.total - first, 10);
    await expect(env.step([0, 0, -1])).rejects.toThrow(/after the episode ended/);

    await env.reset({ options: { frame: 1 } });
    const stop = await env.step([1, 1, 0.5]);
    expect(stop.terminated).toBe(true);
    expect(stop.truncated).toBe(false);
    expect(stop.reward).toBe(0);
    expect(stop.info.stopped).toBe(true);
    expect(stop.info.x).toEqual(space.toNormalised(space.defaults()));
  });

  it('is deterministic under a seed and rejects bad actions', async () => {
    const run = async (seed: number) => {
      const env = new AdjustEnv(options());
      const out: unknown[] = [];
      let r = await env.reset({ seed });
      out.push(r.info.frame, Array.from(r.observation));
      for (const action of [[0.3, -0.2, -1], [-0.5, 0.5, -1], [0, 0, 1]]) {
        const s = await env.step(action);
        out.push(Array.from(s.observation), s.reward);
        if (s.terminated || s.truncated) {
          r = await env.reset();
          out.push(r.info.frame);
        }
      }
      return out;
    };
    expect(await run(7)).toEqual(await run(7));
    const env = new AdjustEnv(options());
    await expect(env.step([0, 0, 0])).rejects.toThrow(/before reset/);
    await env.reset();
    await expect(env.step([0, Number.NaN, 0])).rejects.toThrow(/action\[1\] \(stability_score_thresh\) is NaN/);
    await expect(env.step([0, 0])).rejects.toThrow(/must be 3 numbers/);
    expect(() => new AdjustEnv(options({ fixed: { pred_iou_thresh: 0.5 } }))).toThrow(/both tuned and fixed/);
  });
});
