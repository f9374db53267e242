/**
 * Evaluations to a good knob setting: on 8 synthetic frames with labels, the
 * micro-sam 210-point grid (predicted IoU × stability) spends all 210
 * evaluations to find its best mean mSA; CMA-ES, Bayesian optimisation and
 * random search (several seeds each) tune the same two knobs over their full
 * range [0, 1]² and we count the evaluations each needs to reach 95 % of the
 * grid's best. Every evaluation runs through the training runner into a study
 * store, on a TuneEnv over the bundled SAM reference model (proposals cached
 * per frame: only the first evaluation pays for the decoder).
 *
 *   npm run bench -- tune [--seeds N] [--budget N]
 *
 * One JSON line per agent:
 *   {"bench":"tune","agent":…,"evals_to_95":…,"grid_evals":210,"grid_best_msa":…,"best_msa":…}
 * evals_to_95 is the median over seeds (null when at most half of the seeds reach it);
 * `runs` lists each seed's figure.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgent } from '../agents/registry.js';
import { TuneEnv } from '../envs/tune-env.js';
import { compileReward, loadRewardConfig, parseRewardConfig } from '../rewards/index.js';
import { generateSynthFrame } from '../src/data/synth.js';
import type { Frame } from '../src/image/frame.js';
import type { LabelImage } from '../src/masks/types.js';
import { packageRoot } from '../src/util/package-root.js';
import { SamSegmenter } from '../src/segmenters/sam/segmenter.js';
import { StudyStore } from '../src/store/index.js';
import { runStudy } from '../src/train/runner.js';
import { Rng } from '../src/util/rng.js';
import { machineLine, median } from './_machine.js';

const TUNED = ['pred_iou_thresh', 'stability_score_thresh'];

export async function run(args: string[] = []): Promise<void> {
  const option = (name: string, fallback: number): number => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const seeds = option('seeds', 5);
  const budget = option('budget', 100);
  console.log(machineLine());

  // 8 frames, 256–384 px, 20–40 particles, seeded.
  const rng = new Rng(2024);
  const frames: Frame[] = [];
  const truths: LabelImage[] = [];
  const particles: number[] = [];
  for (let i = 0; i < 8; i++) {
    const size = 256 + 32 * rng.int(5);
    const synth = generateSynthFrame(
      { width: size, height: size, count: 20 + rng.int(21), diameter: { median: 14 + rng.int(10), sigma: 0.25 } },
      rng.fork(),
      `bench-tune:${i}`,
    );
    frames.push(synth.frame);
    truths.push(synth.labels);
    particles.push(synth.particles.length);
  }
  console.log(`frames: ${frames.map((f) => `${f.width}²`).join(' ')}, particles ${particles.join(' ')}`);

  // Reward: mean mSA against the labels (the supervised config's msa term; its other terms are recorded).
  const supervised = await loadRewardConfig(join(packageRoot(), 'configs', 'rewards', 'supervised.yaml'));
  const reward = compileReward(parseRewardConfig({ ...rawTerms(supervised), total: 'msa' }, 'supervised.yaml (total: msa)'));
  const segmenter = await SamSegmenter.load({ intraOpThreads: 1 });
  const space = segmenter.knobs.subset(TUNED);
  const env = new TuneEnv({ segmenter, frames, truths, reward, space });
  const bounds = space.searchBounds();
  const dir = mkdtempSync(join(tmpdir(), 'samstar-bench-tune-'));

  const warm = performance.now();
  await env.evaluate(segmenter.knobs.defaults());
  const warmMs = performance.now() - warm;
  console.log(`first evaluation (encode + decode 8 frames, 32×32 prompts): ${(warmMs / 1000).toFixed(1)} s`);

  /** One study: the agent against the env through the runner; returns the mSA of each evaluation, in order. */
  let studies = 0;
  const study = async (agentName: string, seed: number, options: Record<string, unknown>, runBudget: number): Promise<{ msa: number[]; ms: number }> => {
    const store = StudyStore.open(join(dir, `study-${studies++}.sqlite`));
    const { id } = store.createStudy({ name: `${agentName}-${seed}`, config: { bench: 'tune' }, seed, agent: agentName, agentOptions: options, knobSpace: space.toJSON(), budget: runBudget });
    const agent = createAgent(agentName, bounds, seed, options, { budget: runBudget, toNormalised: (v) => space.toNormalised(v) });
    const started = performance.now();
    await runStudy({
      store,
      studyId: id,
      agent,
      budget: runBudget,
      toKnobs: (x) => space.fromNormalised(x),
      evaluate: (knobs) => env.evaluate(knobs),
    });
    const ms = performance.now() - started;
    const msa = store.evaluations(id).map((e) => e.total);
    store.close();
    return { msa, ms };
  };

  const grid = await study('grid', 0, { preset: 'micro-sam' }, 210);
  const gridBest = Math.max(...grid.msa.filter(Number.isFinite));
  const bestIndex = grid.msa.indexOf(gridBest);
  const target = 0.95 * gridBest;
  const firstAt = (msa: number[]): number | null => {
    const i = msa.findIndex((v) => v >= target);
    return i < 0 ? null : i + 1;
  };
  console.log(
    `grid (micro-sam, 210 points): best mSA ${gridBest.toFixed(4)} at evaluation ${bestIndex + 1}; 95 % target ${target.toFixed(4)} first met at ${firstAt(grid.msa)} in grid order; ` +
      `${(grid.ms / 210).toFixed(1)} ms per evaluation (cached proposals)`,
  );
  const lines: Record<string, unknown>[] = [
    {
      bench: 'tune',
      agent: 'grid',
      evals_to_95: firstAt(grid.msa),
      grid_evals: 210,
      grid_best_msa: round(gridBest),
      best_msa: round(gridBest),
      seeds: 1,
    },
  ];

  for (const agentName of ['cmaes', 'bo', 'random']) {
    const runs: (number | null)[] = [];
    const bests: number[] = [];
    let ms = 0;
    let evaluations = 0;
    for (let s = 0; s < seeds; s++) {
      const result = await study(agentName, 1 + s, {}, budget);
      runs.push(firstAt(result.msa));
      bests.push(Math.max(...result.msa.filter(Number.isFinite)));
      ms += result.ms;
      evaluations += result.msa.length;
    }
    // Median over seeds, a seed that never reached the target counting as worse than any that did.
    const med = median(runs.map((r) => r ?? Infinity));
    const evalsTo95 = Number.isFinite(med) ? med : null;
    console.log(
      `${agentName.padEnd(6)}: evaluations to 95 % per seed [${runs.map((r) => r ?? 'never').join(', ')}] (budget ${budget}); best mSA median ${median(bests).toFixed(4)}, ` +
        `${(ms / evaluations).toFixed(1)} ms per evaluation incl. agent`,
    );
    lines.push({
      bench: 'tune',
      agent: agentName,
      evals_to_95: evalsTo95,
      grid_evals: 210,
      grid_best_msa: round(gridBest),
      best_msa: round(median(bests)),
      seeds,
      budget,
      runs,
    });
  }
  await env.close();
  await segmenter.dispose();
  rmSync(dir, { recursive: true, force: true });
  for (const line of lines) console.log(JSON.stringify(line));
}

function round(v: number): number {
  return Number(v.toFixed(4));
}

function rawTerms(config: Awaited<ReturnType<typeof loadRewardConfig>>): Record<string, unknown> {
  const terms: Record<string, unknown> = {};
  for (const t of config.terms) terms[t.name] = { type: t.type, ...(t.params as Record<string, unknown>) };
  return { measure: config.measure, terms };
}
