/**
 * A sequential policy on a drifting stream: `npm run bench -- env-train [--segmenter sam|blobs]
 * [--tune a,b] [--frames N] [--test-frames N] [--size N] [--pps N] [--steps N] [--episode N]
 * [--step-size X] [--rollout N] [--hidden 32] [--log-std X] [--lr X] [--gamma X] [--threads N]
 * [--seed N] [--quick]`.
 *
 * PPO (src/train/env-train.ts's trainOnEnv) on StreamEnv: the knobs carry over from frame to
 * frame and each step moves them (delta mode), so the policy can follow a drift. Two synthetic
 * streams with the same drift as `bench policy` (particle diameter 7 → 22 px, contrast
 * 0.6 → 0.15; different seeds): the agent trains on windows of `--episode` frames of the
 * training stream, then each policy runs once, deterministically, over the whole training
 * stream and the whole test stream, from the same start knobs (the tuned knobs' defaults):
 *
 *   hold      no move: the start knobs on every frame (what a fixed setting does)
 *   untrained the PPO policy before training
 *   ppo       the PPO policy after training
 *   static    (context, d ≤ 3) the best fixed knobs on the training stream, from a grid, held
 *
 * Figures: mean reward per frame (an episode's return / its frames), env steps, episodes,
 * wall time of training, ms per env step (segment + reward + features; resets included).
 * The SAM pipeline (bundled reference model) tunes filter-stage knobs only, so each frame runs
 * the model once and every later step re-filters its cached proposals.
 *
 * Last line: {"bench":"env-train","hold_reward":…,"untrained_reward":…,"ppo_reward":…, …}
 */
import { loadavg } from 'node:os';
import { PpoAgent } from '../agents/policy/ppo.js';
import { StreamEnv } from '../envs/stream-env.js';
import { compileReward } from '../rewards/index.js';
import { generateSynthSeries } from '../src/data/synth.js';
import { BlobSegmenter } from '../src/segmenters/blobs/segmenter.js';
import { SamSegmenter } from '../src/segmenters/sam/segmenter.js';
import type { KnobValues } from '../src/segmenters/knobs.js';
import type { Segmenter } from '../src/segmenters/types.js';
import { evaluatePolicyOnEnv, trainOnEnv, type Actor } from '../src/train/env-train.js';
import { Rng } from '../src/util/rng.js';
import { arg, describeStream, driftingStream, machineLine, strArg } from './_machine.js';

/** bench policy's physics reward: no size target, since sizes drift. */
const REWARD = {
  description: 'physics: convex shapes, the bright foreground covered, no overlaps',
  measure: { foreground: 'bright' },
  terms: {
    shape: { type: 'shape', solidity: { min: 0.9 }, aspect_ratio: { max: 2.5 } },
    coverage: { type: 'coverage' },
    overlap: { type: 'overlap' },
  },
  total: '0.3*shape + 0.5*coverage - 0.2*overlap',
};

const DEFAULT_TUNE: Record<string, string> = { sam: 'pred_iou_thresh,stability_score_thresh', blobs: 'blob_threshold,radius_scale' };

const round = (v: number | null | undefined, digits = 4): number | null => (v === null || v === undefined || !Number.isFinite(v) ? null : Number(v.toFixed(digits)));

export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const kind = strArg(args, 'segmenter', 'sam');
  if (kind !== 'sam' && kind !== 'blobs') throw new Error(`--segmenter must be sam or blobs, got ${kind}`);
  const trainFrames = arg(args, 'frames', quick ? 12 : 24);
  const testFrames = arg(args, 'test-frames', quick ? 12 : 24);
  const size = arg(args, 'size', 128);
  const pps = arg(args, 'pps', 10);
  const steps = arg(args, 'steps', quick ? 1024 : 4096);
  const episodeLength = arg(args, 'episode', quick ? 6 : 8);
  const stepSize = arg(args, 'step-size', 0.25);
  const threads = arg(args, 'threads', 1);
  const seed = arg(args, 'seed', 1);
  const tune = strArg(args, 'tune', DEFAULT_TUNE[kind]).split(',');
  const hiddenArg = strArg(args, 'hidden', '32');
  const ppoOptions = {
    rolloutSize: arg(args, 'rollout', 128),
    minibatchSize: arg(args, 'minibatch', 32),
    epochs: arg(args, 'epochs', 10),
    logStdInit: arg(args, 'log-std', -1),
    learningRate: arg(args, 'lr', 1e-3),
    gamma: arg(args, 'gamma', 0.9),
    hidden: hiddenArg === 'none' ? [] : hiddenArg.split(',').map(Number),
  };
  console.log(machineLine());
  console.log(`load average: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const stream = driftingStream(size, args);
  console.log(
    `streams: ${describeStream(stream)}; ` +
      `training ${trainFrames} frames (episodes of ${episodeLength}), test ${testFrames} frames; segmenter ${kind}${kind === 'sam' ? ` (points_per_side ${pps})` : ''}, tuned ${tune.join(', ')}`,
  );
  const train = generateSynthSeries({ ...stream, frames: trainFrames }, new Rng(1000 + seed), 'train').map((f) => f.frame);
  const test = generateSynthSeries({ ...stream, frames: testFrames }, new Rng(2000 + seed), 'test').map((f) => f.frame);

  const segmenter: Segmenter = kind === 'sam' ? await SamSegmenter.load({ intraOpThreads: threads, proposalCacheBytes: 4 * 2 ** 30 }) : new BlobSegmenter();
  try {
    const reward = compileReward(REWARD);
    const space = segmenter.knobs.subset(tune);
    const fixed: KnobValues = kind === 'sam' ? { points_per_side: pps } : {};
    const envOn = (frames: typeof train, length: number | 'all') =>
      new StreamEnv({ segmenter, frames, reward, space, fixed, episodeLength: length, actionMode: 'delta', stepSize, seed });
    const trainEnv = envOn(train, episodeLength);
    const wholeTrain = envOn(train, 'all');
    const wholeTest = envOn(test, 'all');

    // Warm the proposal caches (one model run per frame) so training time and ms per step measure the loop, not the first encodes.
    let t = performance.now();
    const hold: Actor = { name: 'hold', observationSize: trainEnv.observationSpace.size, actionSize: trainEnv.actionSpace.size, act: () => ({ action: space.names.map(() => 0), rawAction: space.names.map(() => 0), logProb: 0 }) };
    const once = { episodes: 1, seed };
    const holdTrain = await evaluatePolicyOnEnv(wholeTrain, hold, once);
    const holdTest = await evaluatePolicyOnEnv(wholeTest, hold, once);
    const warmSeconds = (performance.now() - t) / 1000;
    const perFrame = (r: { meanReturn: number }, frames: number) => r.meanReturn / frames;
    console.log(`hold (start knobs ${JSON.stringify(space.fromNormalised(space.toNormalised(space.defaults())))}): reward per frame ${perFrame(holdTrain, trainFrames).toFixed(4)} train, ${perFrame(holdTest, testFrames).toFixed(4)} test (first pass incl. model runs ${warmSeconds.toFixed(1)} s)`);

    const agent = new PpoAgent(trainEnv.observationSpace.size, trainEnv.actionSpace.size, seed, ppoOptions);
    const untrainedTrain = await evaluatePolicyOnEnv(wholeTrain, agent, once);
    const untrainedTest = await evaluatePolicyOnEnv(wholeTest, agent, once);
    console.log(`untrained ppo: ${perFrame(untrainedTrain, trainFrames).toFixed(4)} train, ${perFrame(untrainedTest, testFrames).toFixed(4)} test`);

    console.log(`ppo options: ${JSON.stringify(ppoOptions)}, ${steps} env steps`);
    let lastLog = 0;
    const summary = await trainOnEnv(trainEnv, agent, {
      steps,
      seed,
      lastEpisodes: 20,
      onUpdate: ({ update, stats, steps: done, meanReturn }) => {
        if (update === 1 || update - lastLog >= 5 || done >= steps) {
          lastLog = update;
          console.log(`  update ${update} (${done} steps): mean batch reward ${stats.meanReward.toFixed(4)}, last-20 episode reward per frame ${meanReturn === null ? '–' : (meanReturn / episodeLength).toFixed(4)}, σ ${stats.std.toFixed(3)}`);
        }
      },
    });
    const trainedTrain = await evaluatePolicyOnEnv(wholeTrain, agent, once);
    const trainedTest = await evaluatePolicyOnEnv(wholeTest, agent, once);
    const tm = summary.timing;
    console.log(
      `ppo training: ${summary.steps} steps, ${summary.episodes} episodes, ${summary.updates} updates, ${(tm.wallMs / 1000).toFixed(1)} s wall ` +
        `(env ${(tm.envMs / 1000).toFixed(1)} s = ${tm.msPerEnvStep?.toFixed(2)} ms per step, learning ${(tm.learnMs / 1000).toFixed(1)} s, acting ${(tm.actMs / 1000).toFixed(1)} s)`,
    );
    console.log(`trained ppo: ${perFrame(trainedTrain, trainFrames).toFixed(4)} train, ${perFrame(trainedTest, testFrames).toFixed(4)} test`);

    // Context: the best fixed knobs on the training stream (grid over the normalised box, each point held for the whole stream).
    let staticBest: { x: number[]; train: number; test: number } | null = null;
    if (space.dimension <= 3) {
      const levels = space.dimension === 1 ? 13 : space.dimension === 2 ? 7 : 5;
      const axis = Array.from({ length: levels }, (_, i) => -1 + (2 * i) / (levels - 1));
      const grid = space.dimension === 1 ? axis.map((a) => [a]) : space.dimension === 2 ? axis.flatMap((a) => axis.map((b) => [a, b])) : axis.flatMap((a) => axis.flatMap((b) => axis.map((c) => [a, b, c])));
      t = performance.now();
      let best = -Infinity;
      let bestX = grid[0];
      for (const x of grid) {
        const r = await evaluatePolicyOnEnv(wholeTrain, hold, { ...once, resetOptions: () => ({ knobs: x }) });
        if (r.meanReturn > best) {
          best = r.meanReturn;
          bestX = x;
        }
      }
      const onTest = await evaluatePolicyOnEnv(wholeTest, hold, { ...once, resetOptions: () => ({ knobs: bestX }) });
      staticBest = { x: bestX, train: best / trainFrames, test: perFrame(onTest, testFrames) };
      console.log(`static best (grid of ${grid.length}, ${((performance.now() - t) / 1000).toFixed(1)} s): ${JSON.stringify(space.fromNormalised(bestX))}: ${staticBest.train.toFixed(4)} train, ${staticBest.test.toFixed(4)} test`);
    }

    for (const env of [trainEnv, wholeTrain, wholeTest]) await env.close();
    console.log(
      JSON.stringify({
        bench: 'env-train',
        segmenter: kind,
        tuned: tune,
        size,
        train_frames: trainFrames,
        test_frames: testFrames,
        episode_length: episodeLength,
        steps: summary.steps,
        episodes: summary.episodes,
        updates: summary.updates,
        hold_reward: round(perFrame(holdTrain, trainFrames)),
        untrained_reward: round(perFrame(untrainedTrain, trainFrames)),
        ppo_reward: round(perFrame(trainedTrain, trainFrames)),
        hold_test_reward: round(perFrame(holdTest, testFrames)),
        untrained_test_reward: round(perFrame(untrainedTest, testFrames)),
        ppo_test_reward: round(perFrame(trainedTest, testFrames)),
        static_reward: round(staticBest?.train),
        static_test_reward: round(staticBest?.test),
        train_wall_s: round(tm.wallMs / 1000, 1),
        learn_s: round(tm.learnMs / 1000, 1),
        env_s: round(tm.envMs / 1000, 1),
        ms_per_env_step: round(tm.msPerEnvStep, 2),
        warm_s: round(warmSeconds, 1),
        load_average: round(loadavg()[0], 2),
      }),
    );
  } finally {
    await segmenter.dispose();
  }
}
