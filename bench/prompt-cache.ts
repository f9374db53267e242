/**
 * The per-prompt decoder cache: `npm run bench -- prompt-cache [--frames 6] [--settings 24] [--size 256] [--seed 1]`.
 *
 * Tuning a propose-stage knob (the blob threshold and σ range, the grid density) changes the prompt
 * set, so the proposal cache misses and the decoder runs again. Many prompts repeat between settings
 * (the strong blobs are found at every threshold; nearby σ ranges find the same centres), and the
 * per-prompt cache answers those from memory. This bench visits the same random blob settings on
 * the same frames with the per-prompt cache on and off, and checks that both give the same records:
 * decoder runs, wall time and their ratios. A grid-density sweep is shown too: grids of different
 * density share few points, so the cache saves little there.
 *
 * Last line: {"bench":"prompt-cache","blob_runs_off":…,"blob_runs_on":…,"blob_speedup":…,"grid_runs_off":…,…}
 */
import { generateSynthSeries } from '../src/data/synth.js';
import type { KnobValues } from '../src/segmenters/knobs.js';
import { SamSegmenter } from '../src/segmenters/sam/segmenter.js';
import { Rng } from '../src/util/rng.js';
import { arg, machineLine } from './_machine.js';

export async function run(args: string[]): Promise<void> {
  const frameCount = arg(args, 'frames', 6);
  const settingCount = arg(args, 'settings', 24);
  const size = arg(args, 'size', 256);
  const seed = arg(args, 'seed', 1);
  console.log(machineLine());
  const frames = generateSynthSeries(
    { width: size, height: size, count: Math.round((40 * size * size) / 256 ** 2), diameter: { median: 8, sigma: 0.3, min: 3 }, contrast: 0.3, drift: { diameter: 16, contrast: 0.15 }, frames: frameCount },
    new Rng(seed),
    'prompt-cache',
  );
  const rng = new Rng(seed + 1);
  const blobSettings: KnobValues[] = Array.from({ length: settingCount }, () => {
    const sigmaMin = Math.exp(rng.uniform(Math.log(1), Math.log(4)));
    return {
      prompts: 'blobs',
      blob_threshold: rng.uniform(1, 8),
      blob_sigma_min: sigmaMin,
      blob_sigma_max: sigmaMin * Math.exp(rng.uniform(Math.log(1.5), Math.log(5))),
      pred_iou_thresh: 0.6,
      stability_score_thresh: 0.7,
    };
  });
  const gridSettings: KnobValues[] = [8, 10, 12, 16, 20, 24].map((n) => ({ points_per_side: n, pred_iou_thresh: 0.6, stability_score_thresh: 0.7 }));
  console.log(`${frames.length} frames of ${size}², ${blobSettings.length} random blob settings (threshold 1–8 noise σ, σ range from 1–4 px, 1.5–5× wide), grid densities ${gridSettings.map((g) => g.points_per_side).join(', ')}`);

  const sweep = async (promptCacheBytes: number, settings: KnobValues[]) => {
    const segmenter = await SamSegmenter.load({ promptCacheBytes });
    try {
      // Encode every frame first, so both arms time the decoder and filter only.
      for (const f of frames) await segmenter.segment(f.frame, { points_per_side: 4 });
      const start = { ...segmenter.decoderCounts };
      const records: string[] = [];
      const t = performance.now();
      for (const knobs of settings) for (const f of frames) records.push(JSON.stringify((await segmenter.segment(f.frame, knobs)).instances));
      return { ms: performance.now() - t, runs: segmenter.decoderCounts.decoded - start.decoded, reused: segmenter.decoderCounts.reused - start.reused, records };
    } finally {
      await segmenter.dispose();
    }
  };

  const figures: Record<string, number | boolean> = {};
  for (const [name, settings] of [
    ['blob', blobSettings],
    ['grid', gridSettings],
  ] as const) {
    const off = await sweep(0, settings);
    const on = await sweep(512 * 2 ** 20, settings);
    const same = off.records.every((r, i) => r === on.records[i]);
    console.log(
      `${name} sweep: decoder runs ${off.runs} → ${on.runs} with the cache (${on.reused} answered from it), ${(off.ms / 1000).toFixed(1)} s → ${(on.ms / 1000).toFixed(1)} s (${(off.ms / on.ms).toFixed(2)}× faster); records identical: ${same}`,
    );
    Object.assign(figures, {
      [`${name}_runs_off`]: off.runs,
      [`${name}_runs_on`]: on.runs,
      [`${name}_s_off`]: Number((off.ms / 1000).toFixed(2)),
      [`${name}_s_on`]: Number((on.ms / 1000).toFixed(2)),
      [`${name}_speedup`]: Number((off.ms / on.ms).toFixed(2)),
      [`${name}_identical`]: same,
    });
  }
  console.log(JSON.stringify({ bench: 'prompt-cache', frames: frames.length, size, blob_settings: blobSettings.length, ...figures }));
}
