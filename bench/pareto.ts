/**
 * Multi-objective tuning: how good are the fronts, and what does tuning the LoG blob
 * segmenter with a physics reward (no labels) give on detection?
 *
 *  1. Hypervolume. The blob segmenter on generated frames, five filter-stage knobs, two
 *     objectives (coverage ↑, contrast ↑, each less half the overlap). Per seed, at the same budget: the Pareto search of
 *     `samstar train` (ParEGO-style Chebyshev rounds driving CMA-ES), random search, and CMA-ES
 *     on a fixed weighted sum (their plain sum). Each method's front is the non-dominated
 *     set of its own evaluations; objectives are rescaled per seed over all evaluations of the
 *     three methods between the nadir and ideal of their joint front, the reference point 10 % beyond
 *     the nadir. Figures: median over seeds
 *     of the hypervolume ratios.
 *  2. Dense small particles. Generated frames of 500–900 particles of 4–8 px; the search runs on
 *     two frames, the front point the reward's weights pick is scored by F1 at IoU ≥ 0.5 against the labels on frames it
 *     never saw, next to the default knobs.
 *  3. STEM nanoparticles (../shared/data/stem-nanoparticles, skipped when absent): the search runs
 *     on three images with the same label-free reward; its chosen point and the default
 *     knobs are scored by detection F1 against the box centres (a detection matches a box when
 *     its centroid lies within the box's mean half-size of the centre) on every image of the
 *     set up to `--stem-images` (at most 1024²: the 2048² images cost seconds per evaluation).
 *     For context, the same knobs tuned on the labels instead (CMA-ES on F1, same budget) show what
 *     this segmenter can reach at all; and the SAM path (the bundled samstar-learned model, not SAM)
 *     with one prompt per blob of the tuned detector settings (`--no-sam` leaves it out).
 *
 *   npm run bench -- pareto [--seeds 5] [--budget 60] [--dense-budget 60] [--stem-budget 40] [--stem-images 8] [--fronts] [--no-sam]
 *
 * Budgets are small so that the bench takes minutes on two busy cores; the figures are for these
 * budgets. Last line:
 *   {"bench":"pareto","hv_ratio_random":…,"hv_ratio_weighted":…,"stem_blob_f1":…,"stem_default_f1":…,"dense_blob_f1":…}
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { hypervolume, ParetoArchive } from '../agents/pareto.js';
import { createAgent } from '../agents/registry.js';
import type { AskTellAgent } from '../agents/types.js';
import { TuneEnv } from '../envs/tune-env.js';
import { compileReward, type CompiledReward } from '../rewards/index.js';
import { generateSynthFrame } from '../src/data/synth.js';
import type { Frame } from '../src/image/frame.js';
import { loadFrame } from '../src/image/load.js';
import type { LabelImage } from '../src/masks/types.js';
import { readYoloBoxes, type BoxTruth } from '../src/measure/boxes.js';
import { scorePrediction } from '../src/measure/evaluate.js';
import { BlobSegmenter } from '../src/segmenters/blobs/segmenter.js';
import { SamSegmenter } from '../src/segmenters/sam/segmenter.js';
import type { Segmenter } from '../src/segmenters/types.js';
import { KnobSpace, type KnobSpec, type KnobValues } from '../src/segmenters/knobs.js';
import { scalarisedSearch } from '../src/train/multi-objective.js';
import { packageRoot } from '../src/util/package-root.js';
import { Rng } from '../src/util/rng.js';
import { machineLine, median } from './_machine.js';

/**
 * Filter-stage knobs (the LoG scale space is computed once per frame and reused by every
 * evaluation), with the bounds a task would narrow them to (min_area's full range is 0–100000 px).
 */
const TUNED: Record<string, { min?: number; max?: number }> = {
  blob_threshold: { min: 1, max: 30 },
  blob_overlap: {},
  radius_scale: {},
  min_area: { min: 0, max: 40 },
  refine: {},
};

/**
 * Label-free reward with a real trade-off: the masks' union covers the foreground (Otsu; more and
 * larger masks help), and mask boundaries sit on intensity edges (fewer, tighter masks on strong
 * particles help). Overlap is a penalty on both. The weights (coverage first) pick the point of
 * the front that the F1 figures use, as they pick best-knobs.json in `samstar train`.
 */
const REWARD = {
  measure: { foreground: 'auto' },
  terms: { coverage: {}, edge: {}, overlap: {} },
  objectives: [
    { name: 'coverage', expr: 'coverage - 0.5*overlap', direction: 'maximise', weight: 3 },
    { name: 'edge', expr: 'edge - 0.5*overlap', direction: 'maximise', weight: 1 },
  ],
};

interface Evaluated {
  readonly knobs: KnobValues;
  /** Maximised objective vector. */
  readonly up: number[];
}

type Method = 'pareto' | 'random' | 'weighted';

/** One search on the env: every evaluation's knobs and maximised objectives. */
async function search(env: TuneEnv, space: KnobSpace, method: Method, seed: number, budget: number, reward: CompiledReward): Promise<Evaluated[]> {
  const specs = reward.objectiveSpecs!;
  const bounds = space.searchBounds();
  const pareto = method === 'pareto' ? scalarisedSearch(space, seed, budget, specs.length, { name: 'cmaes', options: {} }) : undefined;
  const agent: AskTellAgent = pareto ?? createAgent(method === 'random' ? 'random' : 'cmaes', bounds, seed, { maxEvaluations: budget });
  const out: Evaluated[] = [];
  while (out.length < budget) {
    const xs = agent.ask().slice(0, budget - out.length);
    if (xs.length === 0) break;
    const batch: Evaluated[] = [];
    for (const x of xs) {
      const e = await env.evaluate(space.fromNormalised(x));
      batch.push({ knobs: e.tuned, up: e.objectives!.map((v, i) => (specs[i].direction === 'minimise' ? -v : v)) });
    }
    out.push(...batch);
    if (out.length >= budget) break;
    if (pareto) pareto.tellVectors(xs, batch.map((b) => b.up));
    else agent.tell(xs, batch.map((b) => b.up.reduce((a, v) => a + v, 0))); // the fixed weighted sum, equal weights
  }
  return out;
}

/** The point of a search's front that the reward's weights pick (agents/pareto.ts), as `samstar train` does. */
function chosen(evaluated: readonly Evaluated[], weights: readonly number[]): KnobValues {
  const archive = new ParetoArchive<KnobValues>();
  for (const e of evaluated) archive.add([], e.up, e.knobs);
  return archive.pick(weights)!.meta!;
}

/** The non-dominated maximised vectors of some evaluations. */
function frontOf(evaluated: readonly Evaluated[]): number[][] {
  const archive = new ParetoArchive();
  for (const e of evaluated) archive.add([], e.up);
  return archive.front().map((e) => [...e.objectives]);
}

/**
 * Hypervolume after rescaling each objective between the nadir (0) and the ideal (1) of the
 * reference front (the non-dominated set of every method's evaluations together), with the
 * reference point 10 % beyond the nadir: the figure measures the front region, not the distance
 * to the worst knob settings ever tried.
 */
function hvOf(front: readonly number[][], reference: readonly number[][]): number {
  const m = reference[0].length;
  const nadir = Array.from({ length: m }, (_, k) => Math.min(...reference.map((p) => p[k])));
  const ideal = Array.from({ length: m }, (_, k) => Math.max(...reference.map((p) => p[k])));
  const scaled = front.map((p) => p.map((v, k) => (ideal[k] > nadir[k] ? (v - nadir[k]) / (ideal[k] - nadir[k]) : 1)));
  return hypervolume(scaled, new Array<number>(m).fill(-0.1));
}

function synthFrames(count: number, seed: number, options: (rng: Rng) => Record<string, unknown>): { frames: Frame[]; labels: LabelImage[]; particles: number[] } {
  const rng = new Rng(seed);
  const frames: Frame[] = [];
  const labels: LabelImage[] = [];
  const particles: number[] = [];
  for (let i = 0; i < count; i++) {
    const synth = generateSynthFrame(options(rng), rng.fork(), `bench-pareto:${seed}:${i}`);
    frames.push(synth.frame);
    labels.push(synth.labels);
    particles.push(synth.particles.length);
  }
  return { frames, labels, particles };
}

async function meanF1(segmenter: Segmenter, frames: readonly Frame[], truths: readonly (LabelImage | BoxTruth)[], knobs: KnobValues, boxes: boolean, counts?: number[]): Promise<number> {
  let sum = 0;
  for (let i = 0; i < frames.length; i++) {
    const segmentation = await segmenter.segment(frames[i], knobs);
    counts?.push(segmentation.instances.length);
    sum += scorePrediction(segmentation, truths[i], boxes ? { boxMatch: { match: 'center', maxDistance: 1, diameter: 'box' } } : {}).f1;
  }
  return sum / frames.length;
}

export async function run(args: string[] = []): Promise<void> {
  const option = (name: string, fallback: number): number => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const seeds = option('seeds', 5);
  const budget = option('budget', 60);
  const denseBudget = option('dense-budget', 60);
  const stemBudget = option('stem-budget', 40);
  const stemImages = option('stem-images', 8);
  console.log(machineLine());
  const started = performance.now();
  const reward = compileReward(REWARD);
  const segmenter = new BlobSegmenter();
  const space = new KnobSpace(segmenter.knobs.subset(Object.keys(TUNED)).specs.map((spec) => ({ ...spec, ...TUNED[spec.name] }) as KnobSpec));

  // 1. Hypervolume: 3 generated frames of 40–80 round particles, 12–20 px.
  const hvSet = synthFrames(3, 77, (rng) => ({ width: 192, height: 192, count: 40 + rng.int(41), diameter: { median: 12 + rng.int(9), sigma: 0.25 }, elongation: { fraction: 0 }, shading: 'dome', gap: 1 }));
  const fixed = { blob_sigma_min: 2, blob_sigma_max: 12, blob_sigma_steps: 6 };
  const hvEnv = new TuneEnv({ segmenter, frames: hvSet.frames, reward, space, fixed });
  const ratiosRandom: number[] = [];
  const ratiosWeighted: number[] = [];
  const hvStart = performance.now();
  for (let seed = 1; seed <= seeds; seed++) {
    const runs = { pareto: await search(hvEnv, space, 'pareto', seed, budget, reward), random: await search(hvEnv, space, 'random', seed, budget, reward), weighted: await search(hvEnv, space, 'weighted', seed, budget, reward) };
    const reference = frontOf([...runs.pareto, ...runs.random, ...runs.weighted]);
    const hv = { pareto: hvOf(frontOf(runs.pareto), reference), random: hvOf(frontOf(runs.random), reference), weighted: hvOf(frontOf(runs.weighted), reference) };
    ratiosRandom.push(hv.pareto / hv.random);
    ratiosWeighted.push(hv.pareto / hv.weighted);
    if (args.includes('--fronts')) {
      for (const [name, r] of Object.entries(runs)) console.log(`  ${name} front: ${frontOf(r).map((p) => `(${p.map((v) => v.toFixed(3)).join(', ')})`).join(' ')}`);
    }
    console.log(`hypervolume seed ${seed} (budget ${budget}): pareto ${hv.pareto.toFixed(4)}, random ${hv.random.toFixed(4)}, cmaes weighted sum ${hv.weighted.toFixed(4)}`);
  }
  await hvEnv.close();
  const hvRatioRandom = median(ratiosRandom);
  const hvRatioWeighted = median(ratiosWeighted);
  console.log(`hypervolume ratio, median over ${seeds} seeds: vs random ${hvRatioRandom.toFixed(3)}, vs CMA-ES weighted sum ${hvRatioWeighted.toFixed(3)} (${((performance.now() - hvStart) / 1000).toFixed(1)} s)`);

  // 2. Dense small particles: tune on 2 frames, score on 3 others.
  const denseStart = performance.now();
  const dense = synthFrames(5, 2026, (rng) => ({ width: 320, height: 320, count: 500 + rng.int(401), diameter: { median: 6, sigma: 0.15, min: 4 }, elongation: { fraction: 0 }, shading: 'dome', gap: 1, attempts: 400 }));
  console.log(`dense frames: 320², particles placed ${dense.particles.join(' ')}`);
  const denseFixed = { blob_sigma_min: 1, blob_sigma_max: 4, blob_sigma_steps: 6 };
  const denseEnv = new TuneEnv({ segmenter, frames: dense.frames.slice(0, 2), reward, space, fixed: denseFixed });
  const weights = reward.objectiveSpecs!.map((o) => o.weight!);
  const denseKnee = chosen(await search(denseEnv, space, 'pareto', 1, denseBudget, reward), weights);
  await denseEnv.close();
  const denseKnobs = segmenter.knobs.resolve({ ...denseFixed, ...denseKnee });
  const unseen = dense.frames.slice(2);
  const denseF1 = await meanF1(segmenter, unseen, dense.labels.slice(2), denseKnobs, false);
  const denseDefaultF1 = await meanF1(segmenter, unseen, dense.labels.slice(2), segmenter.knobs.resolve(denseFixed), false);
  console.log(`dense: chosen knobs ${JSON.stringify(denseKnee)}; F1@0.5 on 3 unseen frames ${denseF1.toFixed(3)} (default knobs ${denseDefaultF1.toFixed(3)}) (${((performance.now() - denseStart) / 1000).toFixed(1)} s)`);

  // 3. STEM nanoparticles: tune on the first 3 images (name order), score on up to `stemImages`.
  let stemF1: number | null = null;
  let stemDefaultF1: number | null = null;
  let stemLabelTunedF1: number | null = null;
  let stemSamF1: number | null = null;
  const stemRoot = join(packageRoot(), '..', 'shared', 'data', 'stem-nanoparticles');
  if (!existsSync(stemRoot)) console.log(`stem: skipped, ${stemRoot} is absent`);
  else {
    const stemStart = performance.now();
    const names = readdirSync(join(stemRoot, 'images')).filter((f) => /\.(jpe?g|png|tiff?)$/i.test(f)).sort();
    const frames: Frame[] = [];
    const boxes: BoxTruth[] = [];
    for (const name of names) {
      if (frames.length >= stemImages) break;
      const frame = await loadFrame(join(stemRoot, 'images', name));
      if (frame.width * frame.height > 1024 * 1024) continue; // the 2048² images cost seconds per evaluation
      frames.push(frame);
      boxes.push(await readYoloBoxes(join(stemRoot, 'boxes', name.replace(/\.[^.]+$/, '.txt')), frame.width, frame.height));
    }
    const stemFixed = { blob_sigma_min: 1.5, blob_sigma_max: 16, blob_sigma_steps: 8 };
    const stemEnv = new TuneEnv({ segmenter, frames: frames.slice(0, 3), reward, space, fixed: stemFixed });
    const stemKnee = chosen(await search(stemEnv, space, 'pareto', 1, stemBudget, reward), weights);
    await stemEnv.close();
    stemF1 = await meanF1(segmenter, frames, boxes, segmenter.knobs.resolve({ ...stemFixed, ...stemKnee }), true);
    stemDefaultF1 = await meanF1(segmenter, frames, boxes, segmenter.knobs.defaults(), true);
    // Context, not a method: the same search space tuned on the labels (CMA-ES on the mean F1 of the
    // same 3 images, same budget), i.e. about what this segmenter can reach with these knobs.
    const oracle = createAgent('cmaes', space.searchBounds(), 1, { maxEvaluations: stemBudget });
    let oracleBest: { f1: number; knobs: KnobValues } = { f1: -1, knobs: {} };
    for (let done = 0; done < stemBudget; ) {
      const xs = oracle.ask().slice(0, stemBudget - done);
      const f1s: number[] = [];
      for (const x of xs) {
        const knobs = segmenter.knobs.resolve({ ...stemFixed, ...space.fromNormalised(x) });
        const f1 = await meanF1(segmenter, frames.slice(0, 3), boxes.slice(0, 3), knobs, true);
        f1s.push(f1);
        if (f1 > oracleBest.f1) oracleBest = { f1, knobs };
      }
      done += xs.length;
      if (done >= stemBudget) break;
      oracle.tell(xs, f1s);
    }
    stemLabelTunedF1 = await meanF1(segmenter, frames, boxes, oracleBest.knobs, true);
    console.log(
      `stem: ${frames.length} images up to 1024² (tuned on 3), chosen knobs ${JSON.stringify(stemKnee)}; detection F1 vs box centres ${stemF1.toFixed(3)} (default knobs ${stemDefaultF1.toFixed(3)}; tuned on the labels instead ${stemLabelTunedF1.toFixed(3)}) (${((performance.now() - stemStart) / 1000).toFixed(1)} s)`,
    );
    // The SAM path (the bundled samstar-learned model, not SAM) prompted at the tuned blobs: one prompt per
    // LoG blob of the physics-tuned detector settings, the model's default filters.
    if (!args.includes('--no-sam')) {
      const samStart = performance.now();
      const sam = await SamSegmenter.load({ intraOpThreads: 1 });
      try {
        const samKnobs = sam.knobs.resolve({ prompts: 'blobs', ...stemFixed, blob_threshold: stemKnee.blob_threshold, blob_overlap: stemKnee.blob_overlap, blob_polarity: 'bright' });
        const kept: number[] = [];
        stemSamF1 = await meanF1(sam, frames, boxes, samKnobs, true, kept);
        console.log(
          `stem: samstar-learned model prompted at the tuned blobs (its default filters), detection F1 ${stemSamF1.toFixed(3)}; masks kept per image ${kept.join(' ')} (${((performance.now() - samStart) / 1000).toFixed(1)} s)`,
        );
      } finally {
        await sam.dispose();
      }
    }
  }
  await segmenter.dispose();
  console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const round = (v: number | null): number | null => (v === null ? null : Math.round(v * 1000) / 1000);
  console.log(
    JSON.stringify({
      bench: 'pareto',
      hv_ratio_random: round(hvRatioRandom),
      hv_ratio_weighted: round(hvRatioWeighted),
      stem_blob_f1: round(stemF1),
      stem_default_f1: round(stemDefaultF1),
      stem_label_tuned_f1: round(stemLabelTunedF1),
      stem_sam_blob_prompts_f1: round(stemSamF1),
      dense_blob_f1: round(denseF1),
      dense_default_f1: round(denseDefaultF1),
      seeds,
      budget,
    }),
  );
}
