/**
 * Per-frame knobs on heterogeneous real images: `npm run bench -- hetero`.
 *
 * The STEM nanoparticle set (../shared/data/stem-nanoparticles: 23 HAADF/TEM images of Cu, Pd, Pt,
 * PtCo, PtW, Ru on silica, alumina and carbon, 640² to 2048², one box per particle; skipped with a
 * message when absent) is split by a fixed rule: images in name order, even positions tune, odd
 * positions test. The LoG blob segmenter is scored by detection F1 against the box centres (a
 * detection matches a box when its centroid lies within half the box's mean half-size of the
 * centre; configs/rewards/supervised-boxes.yaml). Labels are used for scoring only, never to tune,
 * choose or adapt.
 *
 * The knobs per frame: polarity and σ range (propose stage: the LoG scale space) and the response
 * threshold (filter stage). Per image the bench evaluates a grid once: 2 polarities × 4 σ ranges
 * (1–4, 2–8, 4–16, 8–32 px, 5 scales each) × 10 thresholds (2 … 50 noise σ), with the label-free
 * reward (configs/rewards/particles-significance.yaml; another with --reward) and with F1. On the
 * test images it compares:
 *  - default: the segmenter's default knobs;
 *  - static: the grid cell with the best mean reward over the tuning images (what a black-box
 *    agent with an unlimited budget would find on this grid);
 *  - policy: a lookup policy (src/policy/lookup.ts): each tuning image's best cell by reward,
 *    then 3 nearest neighbours in the scale features (frame features v2); its σ range is snapped
 *    to the nearest grid range, its threshold is used as it comes;
 *  - policy + adaptation: the policy's knobs, then an online search on the test frame itself
 *    (src/policy/adapt.ts), no labels: every polarity × σ range as a propose-stage candidate
 *    (4 evaluations each around the best threshold so far), then CMA-ES over the threshold
 *    (adapt_f1); and, for contrast, the threshold alone (12 evaluations on the cached scale
 *    space: adapt_threshold_f1);
 *  - search: the grid cell with the best reward on each test image itself (an exhaustive label-free
 *    search over polarity, σ range and threshold: the reward's own ceiling; seconds per image);
 *  - ppo: a contextual PPO policy with categorical heads (polarity, σ range, threshold: the grid's
 *    values) trained on the tuning images' cells by the reward (no segmentation runs; seconds);
 *  - the default model (samstar-learned) prompted with the blobs (point + box) of the static, the
 *    policy's and the oracle's knobs, no predicted-IoU or stability filter (--no-model skips it):
 *    whether the model's masks add to the blob disks;
 *  - oracle: the best grid cell by F1 on each test image (the ceiling; labels used);
 *  - for contrast, the lookup policy fitted on the tuning images' best cells by F1 (their labels;
 *    the test images unseen): how far per-frame knobs carry over when the per-frame targets are right.
 * gap_recovered = (adapt − static) / (oracle − static).
 *
 * Images larger than --max-side (default 1024) are shrunk by an integer factor with area averaging
 * (boxes follow) so that the grid fits two cores; particles keep ≥ 6 px there. The decision and
 * adaptation times are also measured on the full-size 2048² frames (--time-full, default on; the
 * propose-stage adaptation, tens of seconds there, on the first --time-propose frames only).
 *
 *   npm run bench -- hetero [--max-side 1024] [--images 23] [--no-time-full] [--time-propose 3] [--no-model] [--reward FILE]
 *                           [--ppo-samples 4096] [--dump cells.json | --cells cells.json]
 *
 * Last line: {"bench":"hetero","default_f1":…,"static_f1":…,"policy_f1":…,"adapt_f1":…,"oracle_f1":…,"gap_recovered":…,"adapt_ms_p50":…}
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { compileReward, evaluateReward, loadRewardConfig, parseRewardConfig, type CompiledReward } from '../rewards/index.js';
import { featureSpec, FEATURE_VERSION_V2, frameFeatures } from '../src/image/features.js';
import type { Frame } from '../src/image/frame.js';
import { frameFromPixels } from '../src/image/load.js';
import { readYoloBoxes, type BoxTruth } from '../src/measure/boxes.js';
import { OnlineAdapter } from '../src/policy/adapt.js';
import { fitLookup, lookupX } from '../src/policy/lookup.js';
import { PpoAgent } from '../agents/policy/ppo.js';
import { categoryIndex } from '../agents/policy/heads.js';
import { toTransition, type Transition } from '../agents/policy/types.js';
import { BlobSegmenter } from '../src/segmenters/blobs/segmenter.js';
import { loadSegmenter } from '../src/segmenters/registry.js';
import { Rng } from '../src/util/rng.js';
import { KnobSpace, type KnobValues } from '../src/segmenters/knobs.js';
import { packageRoot } from '../src/util/package-root.js';
import { machineLine, median } from './_machine.js';

const DATA = join(packageRoot(), '..', 'shared', 'data', 'stem-nanoparticles');
const POLARITIES = ['bright', 'dark'] as const;
const RANGES: readonly (readonly [number, number])[] = [[1, 4], [2, 8], [4, 16], [8, 32]];
const THRESHOLDS = [2, 3, 4, 6, 9, 13, 19, 27, 38, 50];
const SIGMA_STEPS = 5;

interface Cell {
  readonly polarity: (typeof POLARITIES)[number];
  readonly range: readonly [number, number];
  readonly threshold: number;
  readonly reward: number;
  readonly terms: Record<string, number>;
  readonly count: number;
  readonly f1: number;
}

interface ImageResult {
  readonly name: string;
  readonly frame: Frame;
  readonly truth: BoxTruth;
  readonly features: Float64Array;
  readonly cells: Cell[];
  readonly defaultF1: number;
}

/** The knobs the policy chooses, in the lookup table's order. */
const blobSpace = new BlobSegmenter().knobs;
const TUNED = new KnobSpace([blobSpace.spec('blob_polarity'), blobSpace.spec('blob_sigma_min'), blobSpace.spec('blob_threshold')]);

function knobsOf(polarity: string, range: readonly [number, number], threshold: number): KnobValues {
  return { blob_polarity: polarity, blob_sigma_min: range[0], blob_sigma_max: range[1], blob_sigma_steps: SIGMA_STEPS, blob_threshold: threshold };
}

async function loadImage(name: string, maxSide: number): Promise<{ frame: Frame; truth: BoxTruth; full: Frame }> {
  const path = join(DATA, 'images', name);
  const { data, info } = await sharp(path).greyscale().raw().toBuffer({ resolveWithObject: true });
  const full = frameFromPixels({ source: path, width: info.width, height: info.height, channels: 1, data: new Uint8Array(data) });
  const factor = Math.max(1, Math.ceil(Math.max(info.width, info.height) / maxSide));
  let frame = full;
  if (factor > 1) {
    const w = Math.floor(info.width / factor);
    const h = Math.floor(info.height / factor);
    const small = await sharp(path).greyscale().resize(w, h, { kernel: 'cubic', fit: 'fill' }).raw().toBuffer();
    frame = frameFromPixels({ source: `${path} (1/${factor})`, width: w, height: h, channels: 1, data: new Uint8Array(small) });
  }
  return { frame, full, truth: await readYoloBoxes(join(DATA, 'boxes', name.replace(/\.[^.]+$/, '.txt')), frame.width, frame.height) };
}

async function evaluateGrid(segmenter: BlobSegmenter, frame: Frame, truth: BoxTruth, reward: CompiledReward, f1: CompiledReward): Promise<Cell[]> {
  const cells: Cell[] = [];
  for (const polarity of POLARITIES) {
    for (const range of RANGES) {
      for (const threshold of THRESHOLDS) {
        const segmentation = await segmenter.segment(frame, knobsOf(polarity, range, threshold));
        const scored = evaluateReward(reward, segmentation, { frame });
        cells.push({
          polarity,
          range,
          threshold,
          reward: scored.total,
          terms: scored.terms,
          count: segmentation.instances.length,
          f1: evaluateReward(f1, segmentation, { frame, truth }).total,
        });
      }
    }
  }
  return cells;
}

/**
 * A contextual policy with categorical heads (PPO): observation = a tuning image's v2 features,
 * action = one choice each of polarity, σ range and threshold (the grid's own values), reward = the
 * label-free reward of that cell (read from the grid: no segmentation is run). Visits the tuning
 * images in shuffled passes for `samples` rewards. The deterministic policy then picks a cell per
 * test image.
 */
async function trainGridPolicy(tune: readonly ImageResult[], samples: number, seed: number): Promise<(features: Float64Array) => { polarity: string; range: readonly [number, number]; threshold: number }> {
  const sizes = [POLARITIES.length, RANGES.length, THRESHOLDS.length];
  const agent = new PpoAgent(tune[0].features.length, 3, seed, { categories: sizes, rolloutSize: 64, minibatchSize: 32, entropyCoef: 0.01 });
  agent.fitNormalizer(tune.map((r) => r.features));
  agent.freezeNormalizer(true);
  const decode = (action: readonly number[]) => {
    const [p, g, t] = action.map((v, i) => categoryIndex(v, sizes[i]));
    return { polarity: POLARITIES[p], range: RANGES[g], threshold: THRESHOLDS[t] };
  };
  const rewardOf = (r: ImageResult, action: readonly number[]): number => {
    const c = decode(action);
    return r.cells.find((cell) => cell.polarity === c.polarity && cell.range[0] === c.range[0] && cell.threshold === c.threshold)!.reward;
  };
  const rng = new Rng(seed);
  let order: number[] = [];
  for (let done = 0; done < samples; ) {
    const batch: Transition[] = [];
    while (batch.length < agent.rolloutSize && done < samples) {
      if (order.length === 0) order = rng.shuffle(tune.map((_, i) => i));
      const r = tune[order.pop()!];
      const out = agent.act(r.features);
      batch.push(toTransition(r.features, out, rewardOf(r, out.action), true));
      done++;
    }
    await agent.learn(batch);
  }
  return (features) => decode(agent.act(features, { deterministic: true }).action);
}

/** Detection F1 of the default model (samstar-learned unless SAMSTAR_MODEL says otherwise) prompted with the blobs of `knobs`, and its time per frame. */
async function modelWithBlobPrompts(frame: Frame, truth: BoxTruth, knobs: KnobValues, f1: CompiledReward): Promise<{ f1: number; ms: number }> {
  const sam = await loadSegmenter('sam');
  try {
    const t0 = performance.now();
    // Each blob prompts a point and its box (2× the blob radius); no predicted-IoU or stability filter, so
    // every blob keeps the model's mask (NMS drops duplicates): this measures the masks, not a filter setting.
    const segmentation = await sam.segment(frame, { prompts: 'blobs', ...knobs, blob_overlap: 0.5, blob_box_prompt: 'on', pred_iou_thresh: 0, stability_score_thresh: 0 });
    return { f1: evaluateReward(f1, segmentation, { frame, truth }).total, ms: performance.now() - t0 };
  } finally {
    await sam.dispose();
  }
}

/** Every polarity × σ range of the grid, as propose-stage candidates for online adaptation. */
const PROPOSE_CANDIDATES: KnobValues[] = POLARITIES.flatMap((blob_polarity) => RANGES.map(([blob_sigma_min, blob_sigma_max]) => ({ blob_polarity, blob_sigma_min, blob_sigma_max })));
/** Evaluations per frame of the adaptation with propose candidates: the start, 4 per other candidate, then 11 for the threshold. */
const PROPOSE_ADAPT_BUDGET = 1 + 4 * (PROPOSE_CANDIDATES.length - 1) + 11;

function nearestRange(sigmaMin: number): readonly [number, number] {
  return RANGES.reduce((best, r) => (Math.abs(Math.log(r[0] / sigmaMin)) < Math.abs(Math.log(best[0] / sigmaMin)) ? r : best));
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

export async function run(args: string[]): Promise<void> {
  const flag = (name: string, fallback: number): number => {
    const at = args.indexOf(`--${name}`);
    return at >= 0 ? Number(args[at + 1]) : fallback;
  };
  const maxSide = flag('max-side', 1024);
  const timeFull = !args.includes('--no-time-full');
  console.log(machineLine());
  if (!existsSync(join(DATA, 'images'))) {
    console.log(`skipped: ${DATA} is absent (the STEM nanoparticle set of ../shared/data)`);
    console.log(JSON.stringify({ bench: 'hetero', skipped: true }));
    return;
  }
  const names = readdirSync(join(DATA, 'images')).filter((n) => /\.(jpe?g|png|tiff?)$/i.test(n)).sort().slice(0, flag('images', 1000));
  const rewardAt = args.indexOf('--reward');
  const rewardPath = rewardAt >= 0 ? args[rewardAt + 1] : join(packageRoot(), 'configs', 'rewards', 'particles-significance.yaml');
  // The name plus a digest of the file: a grid stored by --dump is only reused with the same reward.
  const rewardName = `${rewardPath.replace(/^.*\//, '')}@${createHash('sha256').update(readFileSync(rewardPath)).digest('hex').slice(0, 8)}`;
  const reward = compileReward(await loadRewardConfig(rewardPath));
  const f1 = compileReward(parseRewardConfig({ terms: { f1: { type: 'f1', box_match: { match: 'center', max_distance: 0.5 } } }, total: 'f1' }, 'detection F1'));
  const spec = featureSpec(FEATURE_VERSION_V2);

  const started = performance.now();
  const results: ImageResult[] = [];
  const fullFrames = new Map<string, Frame>();
  // --cells FILE: the grid of an earlier --dump (same images, --max-side and reward config), so that the
  // policy, adaptation and timing parts can be rerun in minutes; the features are computed anew.
  const cellsAt = args.indexOf('--cells');
  const storedRows = cellsAt >= 0 ? (JSON.parse(readFileSync(args[cellsAt + 1], 'utf8')) as { name: string; reward?: string; defaultF1: number; cells: Cell[] }[]) : undefined;
  const otherReward = storedRows?.find((r) => r.reward !== rewardName);
  if (otherReward) throw new Error(`--cells ${args[cellsAt + 1]}: its grid was scored with ${otherReward.reward ?? 'an older reward'}, not ${rewardName}; run without --cells (and --dump) to score it anew`);
  const stored = storedRows ? new Map(storedRows.map((r) => [r.name, r])) : undefined;
  for (const name of names) {
    const t0 = performance.now();
    const segmenter = new BlobSegmenter();
    const { frame, truth, full } = await loadImage(name, maxSide);
    if (full.width * full.height > frame.width * frame.height) fullFrames.set(name, full);
    const features = Float64Array.from(frameFeatures(frame, spec.version));
    const reuse = stored?.get(name);
    if (stored && !reuse) throw new Error(`--cells: ${name} is not in ${args[cellsAt + 1]}`);
    const cells = reuse ? reuse.cells : await evaluateGrid(segmenter, frame, truth, reward, f1);
    const defaultF1 = reuse ? reuse.defaultF1 : evaluateReward(f1, await segmenter.segment(frame, {}), { frame, truth }).total;
    await segmenter.dispose();
    results.push({ name, frame, truth, features, cells, defaultF1 });
    const best = cells.reduce((a, b) => (b.f1 > a.f1 ? b : a));
    const byReward = cells.reduce((a, b) => (b.reward > a.reward ? b : a));
    console.log(
      `${name.padEnd(16)} ${frame.width}×${frame.height} ${String(truth.boxes.length).padStart(4)} boxes | default F1 ${defaultF1.toFixed(2)}` +
        ` | oracle ${best.f1.toFixed(2)} (${best.polarity} σ ${best.range.join('–')} t ${best.threshold})` +
        ` | best reward → F1 ${byReward.f1.toFixed(2)} (${byReward.polarity} σ ${byReward.range.join('–')} t ${byReward.threshold})` +
        ` | dominant σ ${features[spec.names.indexOf('scale_dominant')].toFixed(1)} px (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
  }
  const dump = args.indexOf('--dump');
  if (dump >= 0) {
    // Every cell with its reward terms, to study other reward totals offline (on the tuning images only, to keep the test images unseen).
    const { writeFileSync } = await import('node:fs');
    writeFileSync(args[dump + 1], JSON.stringify(results.map((r, i) => ({ name: r.name, reward: rewardName, split: i % 2 === 0 ? 'tune' : 'test', defaultF1: r.defaultF1, cells: r.cells }))));
  }
  const tune = results.filter((_, i) => i % 2 === 0);
  const test = results.filter((_, i) => i % 2 === 1);

  // Static: the cell with the best mean reward over the tuning images.
  const cellKey = (c: Cell): string => `${c.polarity}|${c.range[0]}|${c.threshold}`;
  const meanReward = new Map<string, number>();
  for (const r of tune) for (const c of r.cells) meanReward.set(cellKey(c), (meanReward.get(cellKey(c)) ?? 0) + c.reward / tune.length);
  const staticKey = [...meanReward.entries()].reduce((a, b) => (b[1] > a[1] ? b : a))[0];
  const cellOf = (r: ImageResult, key: string): Cell => r.cells.find((c) => cellKey(c) === key)!;

  // A lookup policy from each tuning image's best cell by `score`.
  const lookupBy = (score: (c: Cell) => number) =>
    fitLookup({
      featureNames: spec.names,
      k: 3,
      rows: tune.map((r) => {
        const best = r.cells.reduce((a, b) => (score(b) > score(a) ? b : a));
        return { frame: r.name, features: r.features, reward: score(best), x: TUNED.toNormalised({ blob_polarity: best.polarity, blob_sigma_min: best.range[0], blob_threshold: best.threshold }) };
      }),
    });
  // The policy: targets by the label-free reward.
  const table = lookupBy((c) => c.reward);
  // For contrast: targets by F1 (the tuning images' labels; the test images stay unseen), to show how far
  // per-frame knobs carry over by the features when the per-frame targets are right.
  const labelled = lookupBy((c) => c.f1);
  // The same choice by a contextual PPO policy with categorical heads, on the same label-free rewards.
  const ppoStarted = performance.now();
  const ppo = await trainGridPolicy(tune, flag('ppo-samples', 4096), 1);
  const ppoSeconds = (performance.now() - ppoStarted) / 1000;
  const withModel = !args.includes('--no-model');

  const rows: { name: string; default: number; static: number; policy: number; ppo: number; search: number; adaptThreshold: number; adapt: number; oracle: number; labelled: number; adaptMs: number; adaptThresholdMs: number; modelStatic?: number; modelPolicy?: number; modelOracle?: number }[] = [];
  const modelMs: number[] = [];
  for (const r of test) {
    const segmenter = new BlobSegmenter();
    const chosen = TUNED.fromNormalised(lookupX(table, spec.names, r.features, TUNED));
    const range = nearestRange(Number(chosen.blob_sigma_min));
    const policyKnobs = knobsOf(String(chosen.blob_polarity), range, Number(chosen.blob_threshold));
    const policyF1 = evaluateReward(f1, await segmenter.segment(r.frame, policyKnobs), { frame: r.frame, truth: r.truth }).total;
    const adapter = new OnlineAdapter({ segmenter, reward, space: blobSpace.subset(['blob_threshold']), budget: 12, seed: 1 });
    const thresholdOnly = await adapter.adapt(r.frame, segmenter.knobs.resolve(policyKnobs));
    const adaptThresholdF1 = evaluateReward(f1, thresholdOnly.segmentation, { frame: r.frame, truth: r.truth }).total;
    // Adaptation of the propose stage too: every polarity × σ range, then the threshold.
    const proposeAdapter = new OnlineAdapter({ segmenter, reward, space: blobSpace.subset(['blob_threshold']), budget: PROPOSE_ADAPT_BUDGET, proposeCandidates: PROPOSE_CANDIDATES, seed: 1 });
    const adapted = await proposeAdapter.adapt(r.frame, segmenter.knobs.resolve(policyKnobs));
    const adaptF1 = evaluateReward(f1, adapted.segmentation, { frame: r.frame, truth: r.truth }).total;
    const fromLabels = TUNED.fromNormalised(lookupX(labelled, spec.names, r.features, TUNED));
    const labelledF1 = evaluateReward(f1, await segmenter.segment(r.frame, knobsOf(String(fromLabels.blob_polarity), nearestRange(Number(fromLabels.blob_sigma_min)), Number(fromLabels.blob_threshold))), { frame: r.frame, truth: r.truth }).total;
    // Label-free search: the grid cell with the best reward on this very image (what an exhaustive
    // adaptation over polarity, σ range and threshold would choose; the reward's own ceiling).
    const searched = r.cells.reduce((a, b) => (b.reward > a.reward ? b : a));
    const ppoCell = ppo(r.features);
    const ppoF1 = r.cells.find((c) => c.polarity === ppoCell.polarity && c.range[0] === ppoCell.range[0] && c.threshold === ppoCell.threshold)!.f1;
    await segmenter.dispose();
    // The learned default model prompted with the blobs of the static, policy and oracle knobs.
    let model: { modelStatic: number; modelPolicy: number; modelOracle: number } | undefined;
    if (withModel) {
      const staticCell = cellOf(r, staticKey);
      const oracleCell = r.cells.reduce((a, b) => (b.f1 > a.f1 ? b : a));
      const runs = [];
      for (const k of [knobsOf(staticCell.polarity, staticCell.range, staticCell.threshold), policyKnobs, knobsOf(oracleCell.polarity, oracleCell.range, oracleCell.threshold)]) {
        runs.push(await modelWithBlobPrompts(r.frame, r.truth, k, f1));
      }
      runs.forEach((m) => modelMs.push(m.ms));
      model = { modelStatic: runs[0].f1, modelPolicy: runs[1].f1, modelOracle: runs[2].f1 };
    }
    const row = {
      name: r.name,
      default: r.defaultF1,
      static: cellOf(r, staticKey).f1,
      policy: policyF1,
      ppo: ppoF1,
      search: searched.f1,
      adapt: adaptF1,
      adaptThreshold: adaptThresholdF1,
      oracle: Math.max(...r.cells.map((c) => c.f1)),
      labelled: labelledF1,
      adaptMs: adapted.ms,
      adaptThresholdMs: thresholdOnly.ms,
      ...model,
    };
    rows.push(row);
    console.log(
      `test ${r.name.padEnd(16)} default ${row.default.toFixed(2)} static ${row.static.toFixed(2)} policy ${row.policy.toFixed(2)} (${policyKnobs.blob_polarity} σ ${range.join('–')} t ${Number(policyKnobs.blob_threshold).toFixed(1)})` +
        ` adapt threshold ${row.adaptThreshold.toFixed(2)} (t ${Number(thresholdOnly.knobs.blob_threshold).toFixed(1)}, ${thresholdOnly.ms.toFixed(0)} ms)` +
        ` adapt propose+threshold ${row.adapt.toFixed(2)} (${adapted.knobs.blob_polarity} σ ${adapted.knobs.blob_sigma_min}–${adapted.knobs.blob_sigma_max} t ${Number(adapted.knobs.blob_threshold).toFixed(1)}, ${adapted.ms.toFixed(0)} ms) oracle ${row.oracle.toFixed(2)} | search ${row.search.toFixed(2)} (${searched.polarity} σ ${searched.range.join('–')} t ${searched.threshold}) | ppo ${row.ppo.toFixed(2)} (${ppoCell.polarity} σ ${ppoCell.range.join('–')} t ${ppoCell.threshold})` +
        ` | lookup from labelled tuning images ${row.labelled.toFixed(2)}` +
        (model ? ` | model + blob prompts: static ${model.modelStatic.toFixed(2)} policy ${model.modelPolicy.toFixed(2)} oracle ${model.modelOracle.toFixed(2)}` : ''),
    );
  }

  // Decision (features) and adaptation time on the full-size frames, where there are any.
  const fullMs: number[] = [];
  const fullProposeMs: number[] = [];
  const timePropose = flag('time-propose', 3);
  if (timeFull) {
    for (const r of test) {
      const full = fullFrames.get(r.name);
      if (!full) continue;
      const segmenter = new BlobSegmenter();
      const t0 = performance.now();
      const features = frameFeatures(full, spec.version);
      const chosen = TUNED.fromNormalised(lookupX(table, spec.names, features, TUNED));
      const knobs = segmenter.knobs.resolve(knobsOf(String(chosen.blob_polarity), nearestRange(Number(chosen.blob_sigma_min) * (full.width / r.frame.width)), Number(chosen.blob_threshold)));
      const decisionMs = performance.now() - t0;
      await segmenter.segment(full, knobs); // the scale space, as segmenting the frame needs it anyway
      const afterScaleSpace = performance.now();
      const adapter = new OnlineAdapter({ segmenter, reward, space: blobSpace.subset(['blob_threshold']), budget: 12, seed: 1 });
      await adapter.adapt(full, knobs);
      const adaptMs = performance.now() - afterScaleSpace;
      fullMs.push(decisionMs + adaptMs);
      let proposeNote = '';
      if (fullProposeMs.length < timePropose) {
        // The propose-stage adaptation at full size: σ ranges scale with the frame.
        const factor = full.width / r.frame.width;
        const scaled = PROPOSE_CANDIDATES.map((c) => ({ ...c, blob_sigma_min: Number(c.blob_sigma_min) * factor, blob_sigma_max: Number(c.blob_sigma_max) * factor }));
        const proposeAdapter = new OnlineAdapter({ segmenter, reward, space: blobSpace.subset(['blob_threshold']), budget: PROPOSE_ADAPT_BUDGET, proposeCandidates: scaled, seed: 1 });
        const p0 = performance.now();
        await proposeAdapter.adapt(full, knobs);
        fullProposeMs.push(decisionMs + performance.now() - p0);
        proposeNote = `; with the propose stage (${PROPOSE_CANDIDATES.length} polarity × σ range candidates) ${(performance.now() - p0).toFixed(0)} ms`;
      }
      await segmenter.dispose();
      console.log(`full size ${r.name}: ${full.width}×${full.height}, decision ${decisionMs.toFixed(0)} ms + adaptation ${adaptMs.toFixed(0)} ms (scale space ${(afterScaleSpace - t0 - decisionMs).toFixed(0)} ms, paid by segmenting itself)${proposeNote}`);
    }
  }

  const figure = (key: 'default' | 'static' | 'policy' | 'ppo' | 'search' | 'adaptThreshold' | 'adapt' | 'oracle' | 'labelled' | 'modelStatic' | 'modelPolicy' | 'modelOracle'): number => mean(rows.map((row) => row[key] ?? NaN));
  const gap = figure('oracle') - figure('static');
  const sorted = [...fullMs].sort((a, b) => a - b);
  const out = {
    bench: 'hetero',
    default_f1: round(figure('default')),
    static_f1: round(figure('static')),
    policy_f1: round(figure('policy')),
    adapt_f1: round(figure('adapt')),
    adapt_threshold_f1: round(figure('adaptThreshold')),
    oracle_f1: round(figure('oracle')),
    ppo_f1: round(figure('ppo')),
    search_f1: round(figure('search')),
    search_gap_recovered: gap > 1e-9 ? round((figure('search') - figure('static')) / gap) : null,
    labelled_lookup_f1: round(figure('labelled')),
    ...(withModel ? { model_blobs_static_f1: round(figure('modelStatic')), model_blobs_policy_f1: round(figure('modelPolicy')), model_blobs_oracle_f1: round(figure('modelOracle')), model_blobs_ms_p50: Math.round(median(modelMs)) } : {}),
    gap_recovered: gap > 1e-9 ? round((figure('adapt') - figure('static')) / gap) : null,
    adapt_ms_p50: fullMs.length ? Math.round(median(fullMs)) : null,
    adapt_propose_ms_p50: fullProposeMs.length ? Math.round(median(fullProposeMs)) : null,
    adapt_ms_p95: sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)]) : null,
  };
  console.log(`label-free reward: ${rewardName}; static knobs: ${staticKey}; ${tune.length} tuning and ${test.length} test images; ppo policy trained in ${ppoSeconds.toFixed(1)} s; ${((performance.now() - started) / 1000).toFixed(0)} s in all`);
  console.log(`policy (lookup) ${figure('policy').toFixed(3)} vs ppo with categorical heads ${figure('ppo').toFixed(3)}: ${figure('policy') >= figure('ppo') ? 'the lookup' : 'ppo'} wins on the test images`);
  console.log(JSON.stringify(out));
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
