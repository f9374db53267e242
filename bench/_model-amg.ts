/**
 * Automatic mask generation for `bench model`: the generator's knobs tuned by CMA-ES on a few
 * images (against the labels with the supervised reward, or with a physics reward that never sees
 * labels), then scored with the labels (mSA, F1@0.5) on the other images, next to the Otsu baseline.
 * Tuning runs through TuneEnv, so each tuning image is encoded and decoded once and every later
 * evaluation only re-filters the cached proposals.
 */
import { join } from 'node:path';
import { CmaEs } from '../agents/cmaes.js';
import { TuneEnv } from '../envs/tune-env.js';
import { compileReward, loadRewardConfig, parseRewardConfig, type CompiledReward } from '../rewards/index.js';
import { loadTaskConfig, tunedKnobSpace } from '../src/config/task.js';
import { scorePrediction } from '../src/measure/evaluate.js';
import type { KnobSpace, KnobValues } from '../src/segmenters/knobs.js';
import { otsuSegment } from '../src/segmenters/otsu/otsu.js';
import type { SamSegmenter } from '../src/segmenters/sam/segmenter.js';
import { searchBounds } from '../src/train/bounds.js';
import { packageRoot } from '../src/util/package-root.js';
import type { LabelledImage } from './_model-data.js';

/** What is tuned and how: a task config's tuned knobs (with its bounds) and fixed knobs, and the two rewards. */
export interface AmgSetup {
  readonly space: KnobSpace;
  readonly fixed: KnobValues;
  readonly supervised: CompiledReward;
  readonly physics: CompiledReward;
  /** For the log: where the knobs and the physics reward came from. */
  readonly describe: string;
}

/**
 * Knobs from `configs/tasks/TASK.yaml`; the physics reward from `configs/rewards/REWARD.yaml`, or
 * the task's own inline reward when `physics` is 'task'.
 */
export async function amgSetup(task: string, physics: string): Promise<AmgSetup> {
  const configs = join(packageRoot(), 'configs');
  const config = await loadTaskConfig(join(configs, 'tasks', `${task}.yaml`));
  const supervised = compileReward(await loadRewardConfig(join(configs, 'rewards', 'supervised.yaml')));
  let reward: CompiledReward;
  if (physics === 'task') {
    if (typeof config.reward === 'string') reward = compileReward(await loadRewardConfig(config.reward));
    else reward = compileReward(parseRewardConfig(config.reward, `${task}.yaml reward`));
  } else {
    reward = compileReward(await loadRewardConfig(join(configs, 'rewards', `${physics}.yaml`)));
  }
  if (reward.needsTruth) throw new Error(`bench model: the physics reward of ${task}/${physics} needs labels; it must not`);
  return {
    space: tunedKnobSpace(config),
    fixed: config.segmenter.fixed,
    supervised,
    physics: reward,
    describe: `knobs of configs/tasks/${task}.yaml (${tunedKnobSpace(config).names.join(', ')}; fixed ${JSON.stringify(config.segmenter.fixed)}), physics reward ${physics === 'task' ? `inline in ${task}.yaml` : `configs/rewards/${physics}.yaml`}`,
  };
}

export interface Tuned {
  /** The full knob vector of the best evaluation. */
  readonly knobs: KnobValues;
  readonly reward: number;
  readonly evaluations: number;
}

/**
 * CMA-ES (box centre start, default population) for `budget` evaluations, each the mean reward
 * over all tuning images. With `withLabels` false the env gets no labels at all.
 */
export async function tuneKnobs(
  segmenter: SamSegmenter,
  images: readonly LabelledImage[],
  setup: AmgSetup,
  withLabels: boolean,
  budget: number,
  seed: number,
  log: (line: string) => void,
): Promise<Tuned> {
  const loaded = [];
  for (const item of images) loaded.push(await item.load());
  const reward = withLabels ? setup.supervised : setup.physics;
  const env = new TuneEnv({
    segmenter,
    frames: loaded.map((l) => l.frame),
    ...(withLabels ? { truths: loaded.map((l) => l.truth) } : {}),
    reward,
    space: setup.space,
    fixed: setup.fixed,
  });
  try {
    const agent = new CmaEs(searchBounds(setup.space), seed);
    let best: Tuned = { knobs: {}, reward: -Infinity, evaluations: 0 };
    let evaluations = 0;
    const started = performance.now();
    while (evaluations < budget && agent.stop().length === 0) {
      const candidates = agent.ask();
      const rewards: number[] = [];
      // A generation cut short by the budget is evaluated but not told (tell wants the whole generation).
      for (const x of candidates.slice(0, budget - evaluations)) {
        const result = await env.evaluate(setup.space.fromNormalised(x));
        rewards.push(result.reward);
        evaluations++;
        if (result.reward > best.reward) best = { knobs: result.knobs, reward: result.reward, evaluations };
      }
      if (rewards.length === candidates.length) agent.tell(candidates, rewards);
      log(`  tune (${withLabels ? 'labels' : 'physics'}): ${evaluations}/${budget} evaluations, best reward ${best.reward.toFixed(4)}, ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
    return { ...best, evaluations };
  } finally {
    await env.close();
  }
}

export interface ScoredImage {
  readonly id: string;
  readonly set: string;
  /** mSA and F1@0.5 per method. */
  readonly msa: Record<string, number>;
  readonly f1: Record<string, number>;
}

/** Every image scored with each knob setting (one propose per image, re-filtered per setting) and with Otsu. */
export async function scoreImages(
  segmenter: SamSegmenter,
  images: readonly LabelledImage[],
  settings: Record<string, KnobValues>,
  log: (line: string) => void,
): Promise<ScoredImage[]> {
  const out: ScoredImage[] = [];
  for (const [i, item] of images.entries()) {
    const started = performance.now();
    const { frame, truth } = await item.load();
    const msa: Record<string, number> = {};
    const f1: Record<string, number> = {};
    for (const [name, knobs] of Object.entries(settings)) {
      const scores = scorePrediction(await segmenter.segment(frame, knobs), truth);
      msa[name] = scores.msa ?? 0;
      f1[name] = scores.f1;
    }
    const otsu = scorePrediction(otsuSegment(frame).labels, truth);
    msa.otsu = otsu.msa ?? 0;
    f1.otsu = otsu.f1;
    out.push({ id: item.id, set: item.set, msa, f1 });
    log(`  scored ${i + 1}/${images.length} ${item.id} (${frame.width}×${frame.height}): mSA ${Object.entries(msa).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}; ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  return out;
}
