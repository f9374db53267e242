/**
 * Evaluations on `samstar worker` processes through Redis + BullMQ, against
 * in-process evaluation in the same run, on a throw-away loopback redis-server:
 *
 *  1. queue overhead per evaluation: one small frame evaluated again and again
 *     with filter-knob changes (answered from the segmenter's caches, so the
 *     work is near nothing and the difference is the queue), in-process and on
 *     one worker process;
 *  2. throughput of 2 worker processes against 1: frames evaluated with the
 *     bundled model (samstar-learned, not SAM) at two prompt grids, so every job
 *     runs the decoder; each worker process uses one onnxruntime thread;
 *  3. the kill-a-worker run: a study on 2 worker processes, one SIGKILLed after
 *     a few evaluations; the jobs retried, and whether evaluations and best
 *     knobs are identical to the in-process study of the same seed.
 *
 *   npm run bench -- distributed [--overhead-evals N] [--frames N] [--size PX] [--rounds N]
 *
 * Needs redis-server (Debian package). Last line:
 *   {"bench":"distributed","overhead_ms":…,"speedup_2_workers":…,"retried":…,"identical":true|false}
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InProcessEvaluator, type EvalFrame } from '../envs/evaluator.js';
import { compileReward, loadRewardConfig, type CompiledReward } from '../rewards/index.js';
import { loadTaskConfig } from '../src/config/task.js';
import { generateSynthFrame } from '../src/data/synth.js';
import { RedisEvaluator } from '../src/distributed/evaluator.js';
import { defaultModelName } from '../src/segmenters/sam/bundled-models.js';
import { SamSegmenter } from '../src/segmenters/sam/segmenter.js';
import type { KnobValues } from '../src/segmenters/knobs.js';
import { StudyStore } from '../src/store/index.js';
import { resolveTask } from '../src/train/task.js';
import { train, type TrainResult } from '../src/train/train.js';
import { packageRoot } from '../src/util/package-root.js';
import { Rng } from '../src/util/rng.js';
import { writeTinyTask } from '../test/compare/tiny.js';
import { RedisServer, redisServerPath } from '../test/distributed/redis-server.js';
import { machineLine } from './_machine.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A `samstar worker` process (from sources, as the tests run it); resolves once it serves. */
async function spawnWorker(url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), 'worker', '--redis', url, '--threads', '1', '--heartbeat-ms', '200'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start: ${log}`)), 60_000);
    child.stderr!.on('data', (c: Buffer) => {
      log += c.toString();
      if (log.includes('serving')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`worker exited (${code}): ${log}`)));
  });
  return child;
}

async function stopWorkers(workers: ChildProcess[]): Promise<void> {
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.exitCode !== null || w.signalCode !== null) return resolve();
          w.once('exit', () => resolve());
          w.kill('SIGTERM');
        }),
    ),
  );
}

async function timed<T>(f: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t = performance.now();
  const value = await f();
  return { value, ms: performance.now() - t };
}

function synthFrames(n: number, size: number, seed: number): EvalFrame[] {
  return Array.from({ length: n }, (_, i) => {
    const s = generateSynthFrame({ width: size, height: size, count: Math.round((12 * size * size) / 128 ** 2), diameter: { median: 14, sigma: 0.2 } }, new Rng(seed + i), `bench-${seed}-${i}`);
    return { id: s.frame.source, frame: s.frame };
  });
}

/** 1. Queue overhead: the same cheap evaluations in-process and on one worker process. */
async function overhead(url: string, segmenter: SamSegmenter, reward: CompiledReward, evals: number): Promise<{ inProcessMs: number; remoteMs: number; perEvalMs: number }> {
  const [item] = synthFrames(1, 64, 7);
  const settings: KnobValues[] = Array.from({ length: evals }, (_, i) => segmenter.knobs.resolve({ points_per_side: 4, pred_iou_thresh: 0.5 + (0.4 * (i % 20)) / 20 }));
  const local = new InProcessEvaluator(segmenter, reward);
  await local.evaluate(settings[0], [item]); // warm: the proposals are cached from here on
  const here = await timed(async () => {
    for (const k of settings) await local.evaluate(k, [item]);
  });
  const worker = await spawnWorker(url);
  const remote = await RedisEvaluator.start({ redis: { url }, knobs: segmenter.knobs, segmenter, reward });
  try {
    await remote.evaluate(settings[0], [item]); // warm: the worker loads its model and caches the proposals
    const there = await timed(async () => {
      for (const k of settings) await remote.evaluate(k, [item]);
    });
    return { inProcessMs: here.ms, remoteMs: there.ms, perEvalMs: (there.ms - here.ms) / evals };
  } finally {
    await remote.close();
    await stopWorkers([worker]);
  }
}

/** 2. Frame evaluations that run the model, on n fresh worker processes. */
async function throughput(url: string, n: number, segmenter: SamSegmenter, reward: CompiledReward, frames: EvalFrame[]): Promise<number> {
  const workers = await Promise.all(Array.from({ length: n }, () => spawnWorker(url)));
  const remote = await RedisEvaluator.start({ redis: { url }, knobs: segmenter.knobs, segmenter, reward });
  try {
    // Warm each worker's model on a frame of its own (the least-loaded pinning spreads them one each).
    await remote.evaluate(segmenter.knobs.resolve({ points_per_side: 4 }), synthFrames(n, 64, 99));
    const { ms } = await timed(async () => {
      for (const pps of [6, 8]) await remote.evaluate(segmenter.knobs.resolve({ points_per_side: pps }), frames);
    });
    return ms;
  } finally {
    await remote.close();
    await stopWorkers(workers);
  }
}

function evaluationsOf(result: TrainResult): string {
  const store = StudyStore.open(result.paths.study, { readonly: true });
  try {
    return JSON.stringify(store.evaluations(store.study().id).map((e) => [e.index, e.x, e.knobs, e.total, e.terms, e.perFrame]));
  } finally {
    store.close();
  }
}

/** 3. A study on 2 workers, one SIGKILLed after 3 evaluations, against the in-process study. */
async function killRun(url: string, dir: string): Promise<{ retried: number; identical: boolean; evaluations: number; ms: number }> {
  const tiny = await resolveTask(await loadTaskConfig(await writeTinyTask(dir, { budget: 12 })));
  const task = { ...tiny, segmenter: { ...tiny.segmenter, fixed: { points_per_side: 6 } } };
  const local = await train(task, { out: join(dir, 'local'), labelScores: false });
  const workers = [await spawnWorker(url), await spawnWorker(url)];
  let retried = 0;
  try {
    const { value: remote, ms } = await timed(() =>
      train(task, {
        out: join(dir, 'remote'),
        labelScores: false,
        remote: { url, onProgress: (p) => (retried = p.retried) },
        onEvaluation: ({ done }) => {
          if (done === 3) workers[1].kill('SIGKILL');
        },
      }),
    );
    const best = (r: TrainResult): string => JSON.stringify((JSON.parse(readFileSync(r.paths.bestKnobs!, 'utf8')) as { knobs: unknown }).knobs);
    const identical = evaluationsOf(remote) === evaluationsOf(local) && best(remote) === best(local);
    return { retried, identical, evaluations: remote.summary.evaluations, ms };
  } finally {
    await stopWorkers(workers);
  }
}

export async function run(args: string[] = []): Promise<void> {
  const option = (name: string, fallback: number): number => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  if (!redisServerPath()) {
    process.stderr.write('bench distributed: redis-server is not installed (apt-get install -y redis-server)\n');
    process.exitCode = 2;
    return;
  }
  console.log(machineLine());
  console.log(`cpus: ${cpus().length}; load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')} (other processes share these cores)`);
  const redis = await RedisServer.start();
  const dir = mkdtempSync(join(tmpdir(), 'samstar-bench-distributed-'));
  const segmenter = await SamSegmenter.load({ intraOpThreads: 1 });
  try {
    const reward = compileReward(await loadRewardConfig(join(packageRoot(), 'configs', 'rewards', 'nuclei.yaml')));
    console.log(`model: ${defaultModelName()} (bundled, not SAM); redis-server on loopback port ${redis.port}`);

    const evals = option('overhead-evals', 300);
    const o = await overhead(redis.url, segmenter, reward, evals);
    console.log(`overhead: ${evals} cached one-frame evaluations: in-process ${o.inProcessMs.toFixed(0)} ms, through Redis ${o.remoteMs.toFixed(0)} ms → ${o.perEvalMs.toFixed(2)} ms per evaluation`);

    const frames = synthFrames(option('frames', 8), option('size', 192), 11);
    const local = new InProcessEvaluator(segmenter, reward);
    const inProcess = await timed(async () => {
      for (const pps of [6, 8]) await local.evaluate(segmenter.knobs.resolve({ points_per_side: pps }), frames);
    });
    // 1 and 2 workers alternately, the fastest of each kept: other processes on shared cores only ever slow a round down.
    const rounds = option('rounds', 3);
    const ones: number[] = [];
    const twos: number[] = [];
    for (let r = 0; r < rounds; r++) {
      ones.push(await throughput(redis.url, 1, segmenter, reward, frames));
      twos.push(await throughput(redis.url, 2, segmenter, reward, frames));
    }
    const one = Math.min(...ones);
    const two = Math.min(...twos);
    const speedup = one / two;
    const jobs = frames.length * 2;
    console.log(`throughput: ${jobs} frame evaluations with the model (cold encodings, 6² and 8² prompt grids): in-process ${inProcess.ms.toFixed(0)} ms, 1 worker ${one.toFixed(0)} ms, 2 workers ${two.toFixed(0)} ms (fastest of ${rounds}: 1 worker ${ones.map((t) => t.toFixed(0)).join(', ')}; 2 workers ${twos.map((t) => t.toFixed(0)).join(', ')}) → ${speedup.toFixed(2)}× (${cpus().length} CPUs, shared)`);

    const k = await killRun(redis.url, dir);
    console.log(`kill-a-worker: ${k.evaluations} evaluations in ${(k.ms / 1000).toFixed(1)} s, one of 2 workers SIGKILLed after 3; ${k.retried} job(s) retried; evaluations and best knobs ${k.identical ? 'identical to' : 'DIFFERENT from'} in-process`);

    console.log(JSON.stringify({ bench: 'distributed', overhead_ms: Number(o.perEvalMs.toFixed(3)), speedup_2_workers: Number(speedup.toFixed(3)), retried: k.retried, identical: k.identical, cpus: cpus().length, one_worker_ms: Math.round(one), two_workers_ms: Math.round(two), in_process_ms: Math.round(inProcess.ms) }));
  } finally {
    await segmenter.dispose();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
