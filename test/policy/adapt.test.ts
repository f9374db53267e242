import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileReward, evaluateReward, type CompiledReward } from '../../rewards/index.js';
import { generateSynthFrame, generateSynthSeries, type SynthFrame } from '../../src/data/synth.js';
import type { BlobDetector } from '../../src/image/blob-detector.js';
import { BlobSegmenter } from '../../src/segmenters/blobs/segmenter.js';
import { OnlineAdapter } from '../../src/policy/adapt.js';
import type { KnobSpace } from '../../src/segmenters/knobs.js';
import { SamSegmenter } from '../../src/segmenters/sam/segmenter.js';
import { Rng } from '../../src/util/rng.js';

const REWARD = {
  measure: { foreground: 'bright' },
  terms: { shape: { type: 'shape', solidity: { min: 0.9 }, aspect_ratio: { max: 2.5 } }, coverage: { type: 'coverage' }, overlap: { type: 'overlap' } },
  total: '0.3*shape + 0.5*coverage - 0.2*overlap',
};

describe('online adaptation (warm-started CMA-ES over filter knobs)', () => {
  let segmenter: SamSegmenter;
  let reward: CompiledReward;
  let frames: SynthFrame[];
  let space: KnobSpace;
  let decoderRuns = 0;

  beforeAll(async () => {
    segmenter = await SamSegmenter.load({ intraOpThreads: 1 });
    const original = segmenter.model.decoder.run.bind(segmenter.model.decoder);
    segmenter.model.decoder.run = ((...args: Parameters<typeof original>) => {
      decoderRuns++;
      return original(...args);
    }) as typeof original;
    reward = compileReward(REWARD);
    frames = generateSynthSeries({ frames: 3, width: 96, height: 96, count: 6, diameter: { median: 10 }, contrast: 0.6, drift: { diameter: 18, contrast: 0.25 } }, new Rng(4), 'adapt');
    space = segmenter.knobs.subset(['pred_iou_thresh', 'stability_score_thresh', 'mask_threshold']);
  });
  afterAll(async () => {
    await segmenter.dispose();
  });

  it('spends the budget per frame, never ends below its start, carries the knobs on, and runs the model once per frame', async () => {
    const adapter = new OnlineAdapter({ segmenter, reward, space, budget: 10, sigma: 0.2, seed: 1 });
    const base = segmenter.knobs.resolve({ points_per_side: 5, pred_iou_thresh: 0.5, stability_score_thresh: 0.6 });
    const runs: number[] = [];
    const results = [];
    for (const f of frames) {
      const before = decoderRuns;
      const r = await adapter.adapt(f.frame, base);
      runs.push(decoderRuns - before);
      results.push(r);
      expect(r.evaluations).toBe(10);
      expect(r.total).toBeGreaterThanOrEqual(r.baseTotal);
      // The winner's record is what it says: the segmentation of its knobs, scored.
      expect(r.segmentation.knobs).toEqual(r.knobs);
      expect(evaluateReward(reward, r.segmentation, { frame: f.frame }).total).toBe(r.total);
      expect(r.knobs.points_per_side).toBe(5);
      expect(adapter.carried).toEqual(r.x);
    }
    // One propose stage per frame (25 prompts) and nothing more: every other evaluation re-filters.
    expect(runs).toEqual([25, 25, 25]);
    // Same seed, same stream: the same choices.
    const again = new OnlineAdapter({ segmenter, reward, space, budget: 10, sigma: 0.2, seed: 1 });
    for (const [i, f] of frames.entries()) expect((await again.adapt(f.frame, base)).knobs).toEqual(results[i].knobs);
  });

  it('records its search (every evaluation, in order) and stops starting evaluations once its time is up', async () => {
    const base = segmenter.knobs.resolve({ points_per_side: 5, pred_iou_thresh: 0.5, stability_score_thresh: 0.6 });
    const adapter = new OnlineAdapter({ segmenter, reward, space, budget: 8, sigma: 0.2, seed: 2 });
    const r = await adapter.adapt(frames[0].frame, base);
    expect(r.trace).toHaveLength(r.evaluations);
    expect(r.timedOut).toBe(false);
    // The first entry is the start; the winner is the trace's best, and never below the start.
    expect(r.trace[0].tuned).toEqual({ pred_iou_thresh: 0.5, stability_score_thresh: 0.6, mask_threshold: base.mask_threshold });
    expect(r.total).toBe(Math.max(...r.trace.map((t) => t.total)));
    expect(r.total).toBeGreaterThanOrEqual(r.trace[0].total);
    expect(r.tuned).toEqual(r.trace.find((t) => t.total === r.total)!.tuned);
    // A bound below one evaluation's cost: the start only, marked as cut short.
    const hurried = new OnlineAdapter({ segmenter, reward, space, budget: 8, sigma: 0.2, seed: 2, timeBudgetMs: 1e-3 });
    const quick = await hurried.adapt(frames[1].frame, base);
    expect(quick.evaluations).toBe(1);
    expect(quick.timedOut).toBe(true);
    expect(quick.knobs).toEqual(base);
    expect(() => new OnlineAdapter({ segmenter, reward, space, timeBudgetMs: 0 })).toThrow(/time budget must be > 0 ms/);
  });

  it('tunes filter-stage knobs only, naming the offending knob', () => {
    expect(() => new OnlineAdapter({ segmenter, reward, space: segmenter.knobs.subset(['pred_iou_thresh', 'points_per_side']) })).toThrow(
      /online adaptation tunes filter-stage knobs only; "points_per_side" is a propose-stage knob/,
    );
    expect(() => new OnlineAdapter({ segmenter, reward, space, budget: 0 })).toThrow(/budget must be a whole number ≥ 1/);
  });
});

describe('online adaptation with propose-stage candidates (blob polarity × σ range)', () => {
  // Dark particles of ~16 px on a bright background: the start (bright, σ 1–4) is the wrong polarity and scale.
  const { frame } = generateSynthFrame({ width: 128, height: 128, count: 12, diameter: { median: 16, sigma: 0.1 }, polarity: 'dark', contrast: 0.5, noise: { read: 0.03 } }, new Rng(8), 'adapt-propose');
  const reward = compileReward({ terms: { significance: { type: 'significance' } }, total: 'significance' });
  const candidates = ['bright', 'dark'].flatMap((blob_polarity) =>
    [[1, 4], [2, 8], [4, 16]].map(([blob_sigma_min, blob_sigma_max]) => ({ blob_polarity, blob_sigma_min, blob_sigma_max })),
  );

  it('moves to the propose setting the reward prefers, never below its start, records it, and computes each σ layer once', async () => {
    const segmenter = new BlobSegmenter();
    const space = segmenter.knobs.subset(['blob_threshold']);
    const base = segmenter.knobs.resolve({ blob_polarity: 'bright', blob_sigma_min: 1, blob_sigma_max: 4, blob_sigma_steps: 5, blob_threshold: 6 });
    const adapter = new OnlineAdapter({ segmenter, reward, space, budget: 40, proposeCandidates: candidates, seed: 3 });
    const r = await adapter.adapt(frame, base);
    expect(r.knobs.blob_polarity).toBe('dark');
    expect(r.total).toBeGreaterThan(r.baseTotal);
    expect(r.total).toBe(Math.max(...r.trace.map((t) => t.total)));
    // The trace names the propose setting of every evaluation; every candidate was tried.
    for (const c of candidates) expect(r.trace.some((t) => t.tuned.blob_polarity === c.blob_polarity && t.tuned.blob_sigma_min === c.blob_sigma_min)).toBe(true);
    // Settings are compared at equal thresholds: every candidate (the start's setting, bright σ 1–4,
    // is one of them) at the same 4 points, the start's threshold among them: the first 6 × 4 evaluations.
    const candidatePhase = r.trace.slice(0, 24);
    const thresholdsOf = (polarity: unknown, sigmaMin: unknown): number[] =>
      candidatePhase.filter((t) => t.tuned.blob_polarity === polarity && t.tuned.blob_sigma_min === sigmaMin).map((t) => Number(t.tuned.blob_threshold)).sort((a, b) => a - b);
    const startPoints = thresholdsOf('bright', 1);
    expect(startPoints).toHaveLength(4);
    expect(startPoints).toContain(6);
    for (const c of candidates) expect(thresholdsOf(c.blob_polarity, c.blob_sigma_min)).toEqual(startPoints);
    expect(Object.keys(r.tuned).sort()).toEqual(['blob_polarity', 'blob_sigma_max', 'blob_sigma_min', 'blob_threshold']);
    expect(r.knobs.blob_sigma_steps).toBe(5);
    // σ = 1 … 16 on the √2 lattice: 9 layers for 6 candidates (30 without sharing).
    expect((segmenter as unknown as { detector: BlobDetector }).detector.layersComputed).toBe(9);
    // The next frame starts from this one's winner, propose setting included.
    const next = await adapter.adapt(frame, base);
    expect(next.trace[0].tuned.blob_polarity).toBe('dark');
    await segmenter.dispose();
  });

  it('refuses candidates that differ in their knobs, set a filter-stage knob, or set an adapted one', () => {
    const segmenter = new BlobSegmenter();
    const space = segmenter.knobs.subset(['blob_threshold']);
    expect(() => new OnlineAdapter({ segmenter, reward, space, proposeCandidates: [{ blob_polarity: 'dark' }, { blob_sigma_min: 2 }] })).toThrow(/candidate 1 sets blob_sigma_min; every candidate must set the same knobs \(blob_polarity\)/);
    expect(() => new OnlineAdapter({ segmenter, reward, space, proposeCandidates: [{ radius_scale: 1.2 }] })).toThrow(/filter-stage knob "radius_scale"/);
    expect(() => new OnlineAdapter({ segmenter, reward, space: segmenter.knobs.subset(['blob_threshold']), proposeCandidates: [{ blob_threshold: 3 }] })).toThrow(/"blob_threshold" is both adapted and set/);
    expect(() => new OnlineAdapter({ segmenter, reward, space, proposeCandidates: [{ blob_polarity: 'sideways' }] })).toThrow(/blob_polarity/);
  });
});
