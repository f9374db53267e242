/**
 * Does a label-free reward pick the knobs the labels would pick? The check behind a physics reward,
 * run on labelled images that are not the benchmark's own (by default the training images of EMPS).
 *
 *   npm run bench -- reward-fit [--rewards configs/rewards/nanoparticles.yaml,…] [--set train/emps]
 *                               [--groups 7] [--budget 40] [--model DIR] [--task bbbc039] [--seed 1]
 *
 * --set is a folder with images/ and labels/ (label PNGs named as the images): a path, or a name under
 * ../shared/data. Each group takes 24 images spread
 * over the sorted set (a different offset per group): 8 tune, 16 are scored. The knobs of
 * configs/tasks/TASK.yaml are tuned by CMA-ES (--budget evaluations, as `bench model` does) against
 * the labels and with each reward (no labels); the labels then score every tuned setting on the 16
 * other images (mSA). Per reward it prints the gap to the label-tuned mSA in each group, its mean
 * and its worst; the last stdout line is one JSON object. About 3 minutes per group on 2 cores with
 * the bundled model and 4 rewards (each image is encoded and decoded once; tuning only re-filters).
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { compileReward, loadRewardConfig, type CompiledReward } from '../rewards/index.js';
import type { KnobValues } from '../src/segmenters/knobs.js';
import { SamSegmenter } from '../src/segmenters/sam/segmenter.js';
import { arg, machineLine, strArg } from './_machine.js';
import { amgSetup, scoreImages, tuneKnobs } from './_model-amg.js';
import { DATA_DIR, realSet } from './_model-data.js';
import { modelFiles } from './model.js';

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const TUNE = 8;
const SCORED = 16;

export async function run(args: string[]): Promise<void> {
  const set = strArg(args, 'set', 'train/emps');
  const groups = arg(args, 'groups', 7);
  const budget = arg(args, 'budget', 40);
  const seed = arg(args, 'seed', 1);
  const task = strArg(args, 'task', 'bbbc039');
  const rewardPaths = strArg(args, 'rewards', 'configs/rewards/nanoparticles.yaml,configs/rewards/particles-any-scale.yaml').split(',').filter(Boolean);
  const files = modelFiles(strArg(args, 'model', ''));

  // A folder of the user's own when it exists here, else a set of ../shared/data.
  const found = realSet(existsSync(join(resolve(set), 'images')) ? resolve(set) : set);
  if ('missing' in found) {
    log(`reward-fit: skipped (${found.missing}; real data is looked for at ${DATA_DIR})`);
    console.log(JSON.stringify({ bench: 'reward-fit', skipped: found.missing }));
    return;
  }
  const images = found.images;
  if (images.length < TUNE + SCORED) throw new Error(`--set ${set}: ${images.length} labelled images, a group needs ${TUNE + SCORED}`);
  const rewards: { name: string; reward: CompiledReward }[] = [];
  for (const path of rewardPaths) {
    const reward = compileReward(await loadRewardConfig(resolve(path)));
    if (reward.needsTruth) throw new Error(`--rewards ${path}: this reward needs labels; the check is for label-free rewards`);
    rewards.push({ name: basename(path).replace(/\.ya?ml$/, ''), reward });
  }
  // The task's knobs, bounds and supervised reward; the physics reward is replaced by each of --rewards.
  const setup = await amgSetup(task, 'nanoparticles');

  log(machineLine());
  log(`reward-fit: ${set} (${images.length} images), ${groups} groups of ${TUNE} tuning + ${SCORED} scored images, CMA-ES budget ${budget}, seed ${seed}; model ${files.encoder}`);
  const segmenter = await SamSegmenter.load({ files, intraOpThreads: 1 });
  const perGroup: { group: number; msa: Record<string, number> }[] = [];
  try {
    const step = Math.floor(images.length / (TUNE + SCORED));
    for (let g = 0; g < groups; g++) {
      const started = performance.now();
      const picked = Array.from({ length: TUNE + SCORED }, (_, i) => images[(g * 5 + 3 + i * step) % images.length]);
      // Every third image tunes, so both halves span the whole sorted set.
      const tune = picked.filter((_, i) => i % 3 === 0);
      const scored = picked.filter((_, i) => i % 3 !== 0);
      const quiet = (): void => {};
      const settings: Record<string, KnobValues> = { labels: (await tuneKnobs(segmenter, tune, setup, true, budget, seed, quiet)).knobs };
      for (const { name, reward } of rewards) settings[name] = (await tuneKnobs(segmenter, tune, { ...setup, physics: reward }, false, budget, seed, quiet)).knobs;
      const results = await scoreImages(segmenter, scored, settings, quiet);
      const msa: Record<string, number> = {};
      for (const name of [...Object.keys(settings), 'otsu']) msa[name] = results.reduce((a, s) => a + s.msa[name], 0) / results.length;
      perGroup.push({ group: g, msa });
      log(`group ${g + 1}/${groups}: mSA ${Object.entries(msa).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}; ${((performance.now() - started) / 1000).toFixed(0)} s`);
    }
  } finally {
    await segmenter.dispose();
  }

  const summary: Record<string, { mean_gap: number; worst_gap: number; gaps: number[] }> = {};
  for (const { name } of rewards) {
    const gaps = perGroup.map((p) => p.msa.labels - p.msa[name]);
    summary[name] = { mean_gap: r(gaps.reduce((a, b) => a + b, 0) / gaps.length), worst_gap: r(Math.max(...gaps)), gaps: gaps.map((x) => r(x)) };
    log(`${name}: gap to label-tuned mSA mean ${summary[name].mean_gap.toFixed(3)}, worst ${summary[name].worst_gap.toFixed(3)} (${gaps.map((x) => x.toFixed(3)).join(', ')})`);
  }
  console.log(JSON.stringify({ bench: 'reward-fit', set, groups, budget, seed, task, rewards: summary, label_msa: perGroup.map((p) => r(p.msa.labels)), otsu_msa: perGroup.map((p) => r(p.msa.otsu)) }));
}

function r(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
