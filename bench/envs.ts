/**
 * `npm run bench -- envs [--size N] [--pps N] [--frames N] [--workers N]`: frame
 * features cost, and frame-parallel evaluation (in-process vs worker pool) on
 * synthetic frames. Ratios within one run; absolute times are context only.
 */
import { loadavg } from 'node:os';
import { compileReward, loadRewardConfig } from '../rewards/index.js';
import { InProcessEvaluator, type EvalFrame } from '../envs/evaluator.js';
import { WorkerPoolEvaluator } from '../envs/worker-evaluator.js';
import { generateSynthFrame } from '../src/data/synth.js';
import { computeFeatures } from '../src/image/features.js';
import { SamSegmenter } from '../src/segmenters/sam/segmenter.js';
import { packageRoot } from '../src/util/package-root.js';
import { Rng } from '../src/util/rng.js';
import { arg, machineLine, median } from './_machine.js';

export async function run(args: string[]): Promise<void> {
  const size = arg(args, 'size', 256);
  const pps = arg(args, 'pps', 16);
  const frameCount = arg(args, 'frames', 4);
  const workers = arg(args, 'workers', 2);
  console.log(machineLine());
  console.log(`load average: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  // Feature cost per frame size (median of 7 after 2 warm-up runs).
  const featureMs: Record<string, number> = {};
  // Min as well as median: on a shared machine the min is the better estimate of the cost itself.
  const featureMinMs: Record<string, number> = {};
  for (const side of [256, 512, 1024, 2048]) {
    const f = generateSynthFrame({ width: side, height: side, density: 2 }, new Rng(side), `bench-${side}`).frame;
    const image = { data: f.grey, width: side, height: side };
    computeFeatures(image);
    computeFeatures(image);
    const times: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t = performance.now();
      computeFeatures(image);
      times.push(performance.now() - t);
    }
    featureMs[`${side}`] = Number(median(times).toFixed(2));
    featureMinMs[`${side}`] = Number(Math.min(...times).toFixed(2));
    console.log(`features ${side}²: median ${featureMs[`${side}`]} ms, min ${featureMinMs[`${side}`]} ms`);
  }

  const reward = compileReward(await loadRewardConfig(`${packageRoot()}/configs/rewards/nuclei.yaml`));
  const frames: EvalFrame[] = Array.from({ length: frameCount }, (_, i) => {
    const s = generateSynthFrame({ width: size, height: size, density: 8 }, new Rng(100 + i), `bench-frame-${i}`);
    return { id: s.frame.source, frame: s.frame };
  });
  const knobs = (extra: Record<string, number>) => ({ points_per_side: pps, ...extra });

  const segmenter = await SamSegmenter.load();
  const local = new InProcessEvaluator(segmenter, reward);
  let t = performance.now();
  const coldLocal = await local.evaluate(segmenter.knobs.resolve(knobs({ pred_iou_thresh: 0.7 })), frames);
  const coldLocalMs = performance.now() - t;
  t = performance.now();
  await local.evaluate(segmenter.knobs.resolve(knobs({ pred_iou_thresh: 0.6 })), frames);
  const warmLocalMs = performance.now() - t;
  console.log(`in-process: cold ${coldLocalMs.toFixed(0)} ms, re-filter ${warmLocalMs.toFixed(0)} ms`);

  t = performance.now();
  const pool = await WorkerPoolEvaluator.start({ workers, segmenter: { kind: 'sam' }, reward });
  const startMs = performance.now() - t;
  t = performance.now();
  const coldPool = await pool.evaluate(pool.knobs.resolve(knobs({ pred_iou_thresh: 0.7 })), frames);
  const coldPoolMs = performance.now() - t;
  t = performance.now();
  await pool.evaluate(pool.knobs.resolve(knobs({ pred_iou_thresh: 0.6 })), frames);
  const warmPoolMs = performance.now() - t;
  console.log(`pool of ${workers}: start ${startMs.toFixed(0)} ms, cold ${coldPoolMs.toFixed(0)} ms, re-filter ${warmPoolMs.toFixed(0)} ms`);
  const identical = coldLocal.every((r, i) => r.total === coldPool[i].total);
  console.log(`identical totals: ${identical}; pinning: ${frames.map((f) => pool.workerOf(f)).join(' ')}`);
  await pool.close();
  await segmenter.dispose();
  console.log(
    JSON.stringify({
      bench: 'envs',
      size,
      points_per_side: pps,
      frames: frameCount,
      workers,
      features_ms: featureMs,
      features_min_ms: featureMinMs,
      inprocess_cold_ms: Math.round(coldLocalMs),
      pool_start_ms: Math.round(startMs),
      pool_cold_ms: Math.round(coldPoolMs),
      speedup_cold: Number((coldLocalMs / coldPoolMs).toFixed(2)),
      inprocess_refilter_ms: Math.round(warmLocalMs),
      pool_refilter_ms: Math.round(warmPoolMs),
      identical,
      load_average: Number(loadavg()[0].toFixed(2)),
    }),
  );
}
