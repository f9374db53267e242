/**
 * Per-frame policies on a drifting stream: `npm run bench -- policy [--frames N] [--train N]
 * [--size N] [--pps N] [--budget N] [--cma-budget N] [--threads N] [--seed N] [--quick]
 * [--ppo-init static|none] [--hidden 32] [--log-std -1.5] [--lr 0.001] [--rollout 100] …`.
 *
 * Two synthetic streams with the same drift (bench/_machine.ts; default `ripening`: 60 particles
 * of 6 px become 8 of 22 px while the contrast falls from 0.6 to 0.3; `--stream fading`: 12
 * particles grow from 7 to 22 px while the contrast fades from 0.6 to 0.15), different seeds: a
 * training stream (default 50 frames) and a test stream (default 200 frames). The test stream's
 * labels are used for scoring only. Every method tunes the same filter-stage knobs of the SAM
 * pipeline (bundled reference model, points_per_side fixed). The static knobs and the policy are
 * trained with the same reward: by default mSA against the *training* stream's labels (a lab tunes
 * on a labelled set, then deploys on an unlabelled stream); `--reward physics` trains both on the
 * drift's physics reward instead (no labels anywhere; no size target, since sizes drift). Online
 * adaptation always uses the physics reward (the live stream has no labels):
 *
 *   default   SAM's default knobs
 *   static    the best static knobs: CMA-ES (`samstar train --agent cmaes`, λ 8) on the training stream,
 *             288 evaluations of all 50 frames by default (`--cma-budget`; 96 left it under-tuned:
 *             the policy's own average knobs then beat it too)
 *   ppo       the contextual PPO policy (`samstar train --agent ppo --init-policy <static>`) trained
 *             on the training stream, warm-started at the static knobs (one hidden layer of 32,
 *             σ0 = e^−1.5, 3000 visits = 60 passes over 50 frames); `--ppo-init none` from scratch
 *   adapt     online adaptation on the test stream itself: warm-started CMA-ES per frame from the
 *             previous frame's knobs (starting from the static knobs), 12 evaluations per frame
 *   ppo+adapt the same, starting each frame from the PPO policy's choice
 *   ppo-mean  a control: the policy's average choice over the test stream, held fixed for every
 *             frame (if PPO won only by finding a better single setting, this would match it)
 *
 * `--tune-pps MIN,MAX` makes the grid density a tuned knob too (the policy may then choose a dense
 * grid for small particles and a sparse one for large), and `--prompt-cost λ` charges the reward
 * λ per 1024 decoder prompts (the `prompts` term), so density is not free; online adaptation still
 * moves filter knobs only. Each new (frame, density) pair runs the model: much slower.
 *
 * `--stream JSON` patches the drifting stream (bench/_machine.ts), `--total EXPR` / `--shape JSON` the
 * physics reward (terms shape, coverage, overlap, edge, contrast, blobs); `npm run bench -- headroom` with
 * the same options says first whether the best knobs move with that drift at all.
 *
 * mSA against the hidden labels on the test stream, prompts per frame, and the per-frame decision cost:
 * ppo = frame features + forward pass (cold feature cache); adapt = the evaluations after the
 * first (the first segmentation is the model run every method pays).
 *
 * Last line: {"bench":"policy","default_msa":…,"static_msa":…,"ppo_msa":…,"adapt_msa":…,
 *   "ppo_ms_per_frame":…,"adapt_ms_per_frame":…, …}
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileReward } from '../rewards/index.js';
import { parseTaskConfig } from '../src/config/task.js';
import { generateSynthSeries, type SynthFrame } from '../src/data/synth.js';
import { writeSynthDataset } from '../src/data/synth-files.js';
import { scorePrediction } from '../src/measure/evaluate.js';
import { OnlineAdapter } from '../src/policy/adapt.js';
import { Policy } from '../src/policy/policy.js';
import type { KnobValues } from '../src/segmenters/knobs.js';
import type { Segmentation } from '../src/segmenters/types.js';
import { SamSegmenter } from '../src/segmenters/sam/segmenter.js';
import { initFromPolicy, trainPolicy } from '../src/train/policy-train.js';
import { resolveTask } from '../src/train/task.js';
import { train } from '../src/train/train.js';
import { evaluateReward } from '../rewards/index.js';
import { Rng } from '../src/util/rng.js';
import { arg, describeStream, DRIFTS, driftingStream, driftName, machineLine, median, strArg, type DriftName } from './_machine.js';

/**
 * The physics reward; with a prompt cost λ > 0 the decoder prompts are paid for: total − λ·prompts/1024.
 * `--total EXPR` and `--shape JSON` (the shape term's constraints) try other physics rewards over
 * the terms shape, coverage, overlap, edge, contrast and blobs.
 */
export function physicsReward(promptCost: number, args: readonly string[] = [], drift: DriftName = 'fading') {
  const option = (name: string): string | undefined => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const total = option('total') ?? DRIFTS[drift].total;
  const shape = option('shape') ? JSON.parse(option('shape')!) : { solidity: { min: 0.9 }, aspect_ratio: { max: 2.5 } };
  const used = (term: string) => new RegExp(`\\b${term}\\b`).test(total);
  return {
    description: `physics: ${total} (no size target: sizes drift)` + (promptCost > 0 ? `, minus ${promptCost} per 1024 decoder prompts` : ''),
    measure: { foreground: 'bright' },
    terms: {
      shape: { type: 'shape', ...shape },
      coverage: { type: 'coverage' },
      overlap: { type: 'overlap' },
      ...(used('edge') ? { edge: { type: 'edge', reference_quantile: 0.99 } } : {}),
      ...(used('contrast') ? { contrast: { type: 'contrast', polarity: 'bright' } } : {}),
      ...(used('blobs') ? { blobs: { type: 'blobs' } } : {}),
      ...(promptCost > 0 ? { prompts: { type: 'prompts' } } : {}),
    },
    total: total + (promptCost > 0 ? ` - ${promptCost}*prompts` : ''),
  };
}

const FILTER_TUNE = {
  pred_iou_thresh: {},
  stability_score_thresh: {},
  mask_threshold: {},
  stability_score_offset: {},
  box_nms_thresh: {},
};

export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const testFrames = arg(args, 'frames', quick ? 40 : 200);
  const trainFrames = arg(args, 'train', quick ? 20 : 50);
  const size = arg(args, 'size', 128);
  const pps = arg(args, 'pps', 10);
  const budget = arg(args, 'budget', quick ? 1000 : 3000);
  const cmaBudget = arg(args, 'cma-budget', quick ? 48 : 288);
  const threads = arg(args, 'threads', 1);
  // --tune-pps MIN,MAX: the grid density becomes a tuned knob (a model run per new value and frame).
  const ppsRange = strArg(args, 'tune-pps', '') ? strArg(args, 'tune-pps', '').split(',').map(Number) : undefined;
  const promptCost = arg(args, 'prompt-cost', 0);
  const drift = driftName(args, 'ripening');
  const REWARD = physicsReward(promptCost, args, drift);
  // Training reward (--reward labels|physics): by default both the static knobs and the policy are
  // trained on the training stream's labels (mSA), as when a lab tunes on a labelled set and deploys
  // on an unlabelled stream; the test stream's labels only score. Online adaptation has no labels
  // on the stream: it always uses the physics reward.
  const rewardName = strArg(args, 'reward', 'labels');
  if (rewardName !== 'labels' && rewardName !== 'physics') throw new Error(`--reward ${rewardName}: expected labels or physics`);
  const trainOnLabels = rewardName === 'labels';
  const TRAIN_REWARD = trainOnLabels ? { description: 'labels: mSA against the training stream labels', terms: { msa: { type: 'msa' } }, total: 'msa' } : REWARD;
  const TUNE = ppsRange ? { points_per_side: { min: ppsRange[0], max: ppsRange[1] }, ...FILTER_TUNE } : FILTER_TUNE;
  const fixed = ppsRange ? {} : { points_per_side: pps };
  const seed = arg(args, 'seed', 1);
  console.log(machineLine());
  console.log(`load average: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const stream = driftingStream(size, args, drift);
  console.log(`training reward: ${TRAIN_REWARD.description}`);
  console.log(`streams: ${describeStream(stream)}; training ${trainFrames} frames, test ${testFrames} frames; points_per_side ${ppsRange ? `tuned ${ppsRange[0]}–${ppsRange[1]}` : pps}${promptCost > 0 ? `, prompt cost ${promptCost} per 1024` : ''}`);

  const dir = mkdtempSync(join(tmpdir(), 'samstar-bench-policy-'));
  const segmenter = await SamSegmenter.load({ intraOpThreads: threads, proposalCacheBytes: 8 * 2 ** 30 });
  try {
    await writeSynthDataset(join(dir, 'train'), { ...stream, frames: trainFrames }, 1000 + seed);
    const test: SynthFrame[] = generateSynthSeries({ ...stream, frames: testFrames }, new Rng(2000 + seed), 'test');
    const reward = compileReward(REWARD);
    const taskFor = (agent: unknown, taskBudget: number) =>
      resolveTask(
        parseTaskConfig(
          {
            name: 'drift',
            data: { frames: join(dir, 'train', 'images', '*.png'), ...(trainOnLabels ? { labels: join(dir, 'train', 'labels') } : {}) },
            segmenter: { name: 'sam', fixed, tune: TUNE },
            reward: TRAIN_REWARD,
            agent,
            budget: taskBudget,
            seed,
          },
          { source: join(dir, 'task.yaml'), baseDir: dir },
        ),
      );

    // --- the best static knobs (first: its wall time includes the model runs on the training frames).
    let t = performance.now();
    const cma = await train(await taskFor({ name: 'cmaes', options: { popsize: 8 } }, cmaBudget), { out: join(dir, 'cmaes'), segmenter, labelScores: false });
    const cmaSeconds = (performance.now() - t) / 1000;
    console.log(`cmaes training: ${cma.summary.evaluations} evaluations × ${trainFrames} frames, ${cmaSeconds.toFixed(1)} s; best training reward ${cma.summary.best?.total.toFixed(4)} at ${JSON.stringify(cma.summary.best?.knobs)}`);

    // --- the contextual policy, warm-started at the static knobs (--ppo-init none: from scratch).
    const ppoOptions = {
      rolloutSize: arg(args, 'rollout', 100),
      minibatchSize: arg(args, 'minibatch', 25),
      epochs: arg(args, 'epochs', 10),
      logStdInit: arg(args, 'log-std', -1.5),
      learningRate: arg(args, 'lr', 0.001),
      hidden: strArg(args, 'hidden', '32') === 'none' ? [] : strArg(args, 'hidden', '32').split(',').map(Number),
      entropyCoef: arg(args, 'entropy', 0),
    };
    console.log(`ppo options: ${JSON.stringify(ppoOptions)}, budget ${budget}`);
    const ppoTask = await taskFor({ name: 'ppo', options: ppoOptions }, budget);
    t = performance.now();
    let lastLog = 0;
    const init = strArg(args, 'ppo-init', 'static') === 'static' ? await initFromPolicy(cma.paths.policy!, ppoTask) : undefined;
    const ppo = await trainPolicy(ppoTask, {
      out: join(dir, 'ppo'),
      init,
      segmenter,
      labelScores: false,
      onUpdate: ({ update, stats, done }) => {
        if (update === 1 || update - lastLog >= 5 || done >= budget) {
          lastLog = update;
          console.log(`  ppo update ${update} (${done} evaluations): mean batch reward ${stats.meanReward.toFixed(4)}, σ ${stats.std.toFixed(3)}, approx KL ${stats.approxKl.toFixed(4)}`);
        }
      },
    });
    const ppoSeconds = (performance.now() - t) / 1000;
    const s = ppo.summary;
    console.log(`ppo training: ${s.evaluations} evaluations, ${s.updates} updates, ${ppoSeconds.toFixed(1)} s wall (evaluations ${(s.timing.totalEvaluationMs / 1000).toFixed(1)} s, learning ${(s.timing.learnMs / 1000).toFixed(1)} s)${init ? ', warm-started at the CMA-ES knobs' : ', from scratch'}; training reward: default ${s.default?.total.toFixed(4)}, policy ${s.policy?.total.toFixed(4)}`);

    const staticPolicy = await Policy.load(cma.paths.policy!, { segmenter });
    const ppoPolicy = await Policy.load(ppo.paths.policy!, { segmenter });
    const defaults = segmenter.knobs.resolve({ points_per_side: pps });

    // --- the test stream.
    const msa = (seg: Segmentation, f: SynthFrame): number => scorePrediction(seg, f.labels).msa ?? 0;
    const physics = (seg: Segmentation, f: SynthFrame): number => evaluateReward(reward, seg, { frame: f.frame }).total;
    const rows: Record<string, { msa: number[]; reward: number[]; ms: number[]; prompts: number[] }> = {};
    const add = (name: string, seg: Segmentation, m: number, r: number, ms = 0): void => {
      rows[name] ??= { msa: [], reward: [], ms: [], prompts: [] };
      rows[name].msa.push(m);
      rows[name].reward.push(r);
      rows[name].ms.push(ms);
      rows[name].prompts.push(seg.stats?.prompts ?? 0);
    };
    // Network decisions first, on a cold feature cache: features + forward pass per frame.
    const ppoChoice: KnobValues[] = [];
    const ppoMs: number[] = [];
    for (const f of test) {
      const c = ppoPolicy.choose(f.frame, segmenter.knobs);
      ppoChoice.push(c.knobs);
      ppoMs.push(c.ms);
    }
    // Control: the policy's average choice held fixed. If PPO beat the static knobs only because it
    // found a better single setting than CMA-ES, this row would score as well as PPO itself.
    const tunedSpace = ppoPolicy.space;
    const meanPoint = tunedSpace.names.map((_, k) => ppoChoice.reduce((sum, knobs) => sum + tunedSpace.toNormalised(knobs)[k], 0) / ppoChoice.length);
    const ppoMeanKnobs = segmenter.knobs.resolve({ ...ppoChoice[0], ...tunedSpace.fromNormalised(meanPoint) });
    t = performance.now();
    // Online adaptation moves filter-stage knobs only (the model runs once per frame); a tuned grid density stays as chosen.
    const adaptSpace = staticPolicy.space.subset(Object.keys(FILTER_TUNE));
    const adapter = new OnlineAdapter({ segmenter, reward, space: adaptSpace, budget: 12, sigma: 0.15, seed });
    const adapterPpo = new OnlineAdapter({ segmenter, reward, space: adaptSpace, budget: 12, sigma: 0.15, seed });
    const staticKnobs = staticPolicy.choose(test[0].frame, segmenter.knobs).knobs;
    let modelMs = 0;
    for (const [i, f] of test.entries()) {
      const t0 = performance.now();
      const d = await segmenter.segment(f.frame, defaults);
      const s0 = await segmenter.segment(f.frame, staticKnobs);
      modelMs += performance.now() - t0;
      add('default', d, msa(d, f), physics(d, f));
      add('static', s0, msa(s0, f), physics(s0, f));
      const p = await segmenter.segment(f.frame, ppoChoice[i]);
      add('ppo', p, msa(p, f), physics(p, f), ppoMs[i]);
      const pm = await segmenter.segment(f.frame, ppoMeanKnobs);
      add('ppo-mean', pm, msa(pm, f), physics(pm, f));
      const a = await adapter.adapt(f.frame, staticKnobs);
      add('adapt', a.segmentation, msa(a.segmentation, f), a.total, a.ms - a.firstMs);
      const b = await adapterPpo.adapt(f.frame, ppoChoice[i]);
      add('ppo+adapt', b.segmentation, msa(b.segmentation, f), b.total, b.ms - b.firstMs);
      if ((i + 1) % 50 === 0 || i + 1 === test.length) {
        const mean = (v: number[]) => v.reduce((x, y) => x + y, 0) / v.length;
        console.log(`  test ${i + 1}/${test.length}: mSA ${Object.entries(rows).map(([k, r]) => `${k} ${mean(r.msa).toFixed(3)}`).join(', ')}`);
      }
    }
    console.log(`test stream: ${((performance.now() - t) / 1000).toFixed(1)} s (model runs for the ${test.length} frames: ${(modelMs / 1000).toFixed(1)} s)`);

    const mean = (v: number[]) => v.reduce((x, y) => x + y, 0) / v.length;
    const thirds = (v: number[]) => [0, 1, 2].map((k) => mean(v.slice(Math.floor((k * v.length) / 3), Math.floor(((k + 1) * v.length) / 3))));
    console.log('method      mSA    (1st / 2nd / 3rd third of the stream)   physics reward   decision ms/frame (median)   prompts/frame (1st / 3rd third)');
    for (const [name, r] of Object.entries(rows)) {
      const th = thirds(r.msa);
      const pt = thirds(r.prompts);
      console.log(`${name.padEnd(10)} ${mean(r.msa).toFixed(3)}  (${th.map((v) => v.toFixed(3)).join(' / ')})            ${mean(r.reward).toFixed(4)}          ${median(r.ms).toFixed(2)}          ${mean(r.prompts).toFixed(0)} (${pt[0].toFixed(0)} / ${pt[2].toFixed(0)})`);
    }
    const beats = mean(rows.ppo.msa) > mean(rows.static.msa);
    console.log(`contextual PPO ${beats ? 'beats' : 'does not beat'} the best static knobs on the test stream (mSA ${mean(rows.ppo.msa).toFixed(3)} vs ${mean(rows.static.msa).toFixed(3)}).`);
    const p95 = (v: number[]) => [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.floor(0.95 * v.length))];
    const r3 = (v: number) => Number(v.toFixed(3));
    console.log(
      JSON.stringify({
        bench: 'policy',
        default_msa: r3(mean(rows.default.msa)),
        static_msa: r3(mean(rows.static.msa)),
        ppo_msa: r3(mean(rows.ppo.msa)),
        adapt_msa: r3(mean(rows.adapt.msa)),
        ppo_adapt_msa: r3(mean(rows['ppo+adapt'].msa)),
        ppo_mean_knobs_msa: r3(mean(rows['ppo-mean'].msa)),
        static_prompts: r3(mean(rows.static.prompts)),
        ppo_prompts: r3(mean(rows.ppo.prompts)),
        ppo_ms_per_frame: r3(median(ppoMs)),
        ppo_ms_p95: r3(p95(ppoMs)),
        adapt_ms_per_frame: r3(median(rows.adapt.ms)),
        ppo_train_s: Number(ppoSeconds.toFixed(1)),
        ppo_train_evaluations: s.evaluations,
        ppo_train_frames: trainFrames,
        ppo_learn_s: Number((s.timing.learnMs / 1000).toFixed(1)),
        ppo_init: init ? 'static' : 'none',
        cmaes_train_s: Number(cmaSeconds.toFixed(1)),
        cmaes_train_evaluations: cma.summary.evaluations,
        test_frames: testFrames,
        size,
        points_per_side: ppsRange ? `tuned ${ppsRange[0]}–${ppsRange[1]}` : pps,
        prompt_cost: promptCost,
        train_reward: rewardName,
        stream: strArg(args, 'stream', drift).startsWith('{') ? `${drift}+patch` : drift,
      }),
    );
  } finally {
    await segmenter.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
