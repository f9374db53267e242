import { describe, expect, it } from 'vitest';
import { checkEnv } from '../../envs/check-env.js';
import { StreamEnv, type StreamEnvOptions } from '../../envs/stream-env.js';
import { evaluateReward } from '../../rewards/index.js';
import { generateSynthSeries } from '../../src/data/synth.js';
import { frameFeatures } from '../../src/image/features.js';
import { Rng } from '../../src/util/rng.js';
import { useSamEnv } from './fixtures/sam-env.js';

describe('StreamEnv', () => {
  const fx = useSamEnv({
    load: { intraOpThreads: 1 },
    reward: 'nuclei',
    frames: () => generateSynthSeries({ frames: 4, width: 96, height: 96, count: 6, diameter: { median: 12, sigma: 0.2 }, drift: { diameter: 20, contrast: 0.3 } }, new Rng(5), 'stream'),
    knobs: ['pred_iou_thresh', 'stability_score_thresh'],
  });

  const options = fx.options<StreamEnvOptions>(() => ({ fixed: { points_per_side: 4 }, episodeLength: 2, seed: 2 }));

  it('passes checkEnv in both action modes', async () => {
    for (const actionMode of ['delta', 'absolute'] as const) {
      const report = await checkEnv(new StreamEnv(options({ actionMode })), { seed: 1, steps: 5 });
      expect(report.errors).toEqual([]);
      expect(report.ok).toBe(true);
    }
  });

  it('walks the frames in order, carries the knobs over, rewards each frame and observes the previous one', async () => {
    const { segmenter, reward, frames } = fx;
    const env = new StreamEnv(options({ episodeLength: 'all', stepSize: 0.5, start: [0.2, 0.4] }));
    const names = env.observationSpace.names!;
    const at = (obs: ArrayLike<number>, name: string) => obs[names.indexOf(name)];
    const reset = await env.reset();
    expect(reset.info.frameIndices).toEqual([0, 1, 2, 3]);
    expect(at(reset.observation, 'has_previous')).toBe(0);
    expect(Array.from(reset.observation.slice(0, frameFeatures(frames[0].frame).length))).toEqual(Array.from(frameFeatures(frames[0].frame)));
    const steps = [];
    let x = [0.2, 0.4];
    for (let i = 0; i < 4; i++) {
      const a = i === 1 ? [0, 0] : [-0.4, 0.2];
      const s = await env.step(a);
      x = x.map((v, k) => Math.min(1, Math.max(-1, v + 0.5 * a[k])));
      expect(s.info.x).toEqual(x);
      expect(s.info.frameIndex).toBe(i);
      // The reward is the frame's total with the knobs in force.
      const seg = await segmenter.segment(frames[i].frame, env.resolve(x));
      expect(s.reward).toBe(evaluateReward(reward, seg, { frame: frames[i].frame }).total);
      expect(at(s.observation, 'reward_total')).toBe(s.reward);
      expect(at(s.observation, 'seg_count')).toBe(seg.instances.length);
      expect(at(s.observation, 'knob_pred_iou_thresh')).toBe(x[0]);
      expect(at(s.observation, 'has_previous')).toBe(1);
      expect(at(s.observation, 'progress')).toBe((i + 1) / 4);
      expect(s.terminated).toBe(i === 3);
      expect(s.truncated).toBe(false);
      steps.push(s);
    }
    // A zero move keeps the knobs of the previous frame.
    expect(steps[1].info.x).toEqual(steps[0].info.x);
    await expect(env.step([0, 0])).rejects.toThrow(/after the episode ended/);
  });

  it('draws a seeded window and is deterministic under a seed', async () => {
    const run = async (seed: number) => {
      const env = new StreamEnv(options({ episodeLength: 2 }));
      const out: unknown[] = [];
      let r = await env.reset({ seed });
      out.push(r.info.frameIndices);
      for (let i = 0; i < 5; i++) {
        const s = await env.step([0.3 * ((i % 3) - 1), 0.2]);
        out.push(Array.from(s.observation), s.reward);
        if (s.terminated) {
          r = await env.reset();
          out.push(r.info.frameIndices);
        }
      }
      return out;
    };
    const a = await run(11);
    expect(await run(11)).toEqual(a);
    const env = new StreamEnv(options({ episodeLength: 3 }));
    await expect(env.reset({ options: { start: 2 } })).rejects.toThrow(/leaves fewer than 3 frames/);
    expect(() => new StreamEnv(options({ episodeLength: 9 }))).toThrow(/episodeLength/);
  });
});
