/**
 * How much can a per-frame policy gain over the best static knobs on a drifting stream?
 * `npm run bench -- headroom [--prompts grid|blobs] [--pps 10] [--tune-pps MIN,MAX]
 * [--prompt-cost λ] [--stream fading|ripening|JSON] [--train 30] [--frames 45] [--oracle-budget 40] [--seed 1]`.
 *
 * A contextual policy can only win what the knobs' best setting changes along the drift. This
 * bench measures that ceiling on the `bench policy` stream (see _machine.ts), with the labels of
 * the test stream held back for scoring (mSA):
 *
 *   static          CMA-ES on the whole training stream, physics reward (what `bench policy` calls static)
 *   static·labels   the same, maximising mSA against the training labels (the best one setting can do)
 *   phase           CMA-ES per third of the training stream, physics reward, used on the matching
 *                   third of the test stream: a perfect "which part of the drift is this?" policy
 *   phase·labels    the same with mSA
 *   frame           per-frame CMA-ES on each test frame (`--oracle-budget` evaluations, from the
 *                   static knobs), physics reward: what maximising the reward frame by frame gives
 *   frame·labels    the same with the frame's own labels: the per-frame ceiling
 *
 * If `phase` is not above `static`, no policy that reads the drift from the frame can beat the
 * static knobs with this reward, however it is trained. Last line:
 * {"bench":"headroom","static_msa":…,"phase_msa":…,"frame_msa":…,"static_label_msa":…,…}
 */
import { CmaEs } from '../agents/cmaes.js';
import { compileReward, evaluateReward, type CompiledReward } from '../rewards/index.js';
import { generateSynthSeries, type SynthFrame } from '../src/data/synth.js';
import { scorePrediction } from '../src/measure/evaluate.js';
import { filterKnobNames, OnlineAdapter } from '../src/policy/adapt.js';
import { KnobSpace, type KnobSpec, type KnobValues } from '../src/segmenters/knobs.js';
import { SamSegmenter } from '../src/segmenters/sam/segmenter.js';
import { Rng } from '../src/util/rng.js';
import { arg, describeStream, driftingStream, driftName, machineLine, strArg } from './_machine.js';
import { physicsReward } from './policy.js';

const FILTER_KNOBS = ['pred_iou_thresh', 'stability_score_thresh', 'mask_threshold', 'stability_score_offset', 'box_nms_thresh'];

export async function run(args: string[]): Promise<void> {
  const prompts = strArg(args, 'prompts', 'grid');
  const pps = arg(args, 'pps', 10);
  const ppsRange = strArg(args, 'tune-pps', '') ? strArg(args, 'tune-pps', '').split(',').map(Number) : undefined;
  const promptCost = arg(args, 'prompt-cost', 0);
  const trainFrames = arg(args, 'train', 30);
  const testFrames = arg(args, 'frames', 45);
  const oracleBudget = arg(args, 'oracle-budget', 40);
  const seed = arg(args, 'seed', 1);
  const drift = driftName(args, 'fading');
  const stream = driftingStream(128, args, drift);
  console.log(machineLine());
  console.log(`streams: ${describeStream(stream)}; training ${trainFrames}, test ${testFrames} frames; prompts ${prompts}, points_per_side ${ppsRange ? `tuned ${ppsRange.join('–')}` : pps}`);
  const train = generateSynthSeries({ ...stream, frames: trainFrames }, new Rng(1000 + seed), 'train');
  const test = generateSynthSeries({ ...stream, frames: testFrames }, new Rng(2000 + seed), 'test');
  const physics = compileReward(physicsReward(promptCost, args, drift));
  console.log(`reward: ${physics.config.description ?? ''}`);
  const labels = compileReward({ terms: { msa: { type: 'msa' } }, total: 'msa' });

  const segmenter = await SamSegmenter.load({ proposalCacheBytes: 8 * 2 ** 30 });
  try {
    // The grid density, when tuned, over the asked range only (a narrowed spec, as a task's `tune: {min, max}` makes).
    const specs = [...(ppsRange ? [{ ...segmenter.knobs.spec('points_per_side'), min: ppsRange[0], max: ppsRange[1] }] : []), ...FILTER_KNOBS.map((n) => segmenter.knobs.spec(n))];
    const tuned = new KnobSpace(specs as KnobSpec[]);
    const bounds = tuned.searchBounds();
    const fixed: KnobValues = { prompts, ...(ppsRange ? {} : { points_per_side: pps }) };
    const knobsOf = (x: readonly number[]): KnobValues => segmenter.knobs.resolve({ ...fixed, ...tuned.fromNormalised([...x]) });
    const x0 = bounds.low.map((lo, i) => (lo + bounds.high[i]) / 2);

    /** CMA-ES (λ 8, 15 generations) on the mean reward over `frames`. */
    const fit = async (reward: CompiledReward, frames: SynthFrame[], withLabels: boolean): Promise<number[]> => {
      const es = new CmaEs(bounds, seed, { popsize: 8, x0, sigma0: 0.5 });
      let best = { x: x0, total: -Infinity };
      for (let g = 0; g < 15; g++) {
        const candidates = es.ask();
        const totals: number[] = [];
        for (const x of candidates) {
          let sum = 0;
          for (const f of frames) {
            const seg = await segmenter.segment(f.frame, knobsOf(x));
            sum += evaluateReward(reward, seg, { frame: f.frame, truth: withLabels ? f.labels : undefined }).total;
          }
          totals.push(sum / frames.length);
          if (totals[totals.length - 1] > best.total) best = { x, total: totals[totals.length - 1] };
        }
        es.tell(candidates, totals);
      }
      return best.x;
    };
    const third = (i: number, n: number) => Math.min(2, Math.floor((3 * i) / n));
    const thirdsOf = (frames: SynthFrame[]) => [0, 1, 2].map((k) => frames.filter((_, i) => third(i, frames.length) === k));

    const fitThirds = async (reward: CompiledReward, withLabels: boolean): Promise<number[][]> => {
      const out: number[][] = [];
      for (const part of thirdsOf(train)) out.push(await fit(reward, part, withLabels));
      return out;
    };

    let t = performance.now();
    const fitted = {
      static: await fit(physics, train, false),
      staticLabels: await fit(labels, train, true),
      phase: await fitThirds(physics, false),
      phaseLabels: await fitThirds(labels, true),
    };
    console.log(`fitting: ${((performance.now() - t) / 1000).toFixed(1)} s; static knobs ${JSON.stringify(tuned.fromNormalised(fitted.static))}`);

    t = performance.now();
    const rows: Record<string, number[]> = { static: [], 'static·labels': [], phase: [], 'phase·labels': [], frame: [], 'frame·labels': [] };
    const adaptSpace = tuned.subset(filterKnobNames(tuned));
    for (const [i, f] of test.entries()) {
      const msa = async (x: readonly number[]) => scorePrediction(await segmenter.segment(f.frame, knobsOf(x)), f.labels).msa ?? 0;
      const k = third(i, test.length);
      rows.static.push(await msa(fitted.static));
      rows['static·labels'].push(await msa(fitted.staticLabels));
      rows.phase.push(await msa(fitted.phase[k]));
      rows['phase·labels'].push(await msa(fitted.phaseLabels[k]));
      if (oracleBudget > 0) {
        // Per-frame optimisation moves filter knobs only (the grid density stays at the static choice).
        const byReward = await new OnlineAdapter({ segmenter, reward: physics, space: adaptSpace, budget: oracleBudget, sigma: 0.4, popsize: 8, seed: seed + i }).adapt(f.frame, knobsOf(fitted.static));
        rows.frame.push(scorePrediction(byReward.segmentation, f.labels).msa ?? 0);
        const byLabels = await new OnlineAdapter({ segmenter, reward: labels, space: adaptSpace, budget: oracleBudget, sigma: 0.4, popsize: 8, seed: seed + i }).adapt(f.frame, knobsOf(fitted.staticLabels), { truth: f.labels });
        rows['frame·labels'].push(scorePrediction(byLabels.segmentation, f.labels).msa ?? 0);
      }
    }
    console.log(`scoring: ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN);
    console.log('knobs           test mSA (1st / 2nd / 3rd third)');
    for (const [name, v] of Object.entries(rows)) {
      if (v.length === 0) continue; // --oracle-budget 0: no per-frame rows
      const parts = [0, 1, 2].map((k) => mean(v.filter((_, i) => third(i, v.length) === k)));
      console.log(`${name.padEnd(15)} ${mean(v).toFixed(3)}  (${parts.map((p) => p.toFixed(3)).join(' / ')})`);
    }
    const r3 = (v: number) => (Number.isFinite(v) ? Number(v.toFixed(3)) : null);
    console.log(
      JSON.stringify({
        bench: 'headroom',
        static_msa: r3(mean(rows.static)),
        phase_msa: r3(mean(rows.phase)),
        frame_msa: r3(mean(rows.frame)),
        static_label_msa: r3(mean(rows['static·labels'])),
        phase_label_msa: r3(mean(rows['phase·labels'])),
        frame_label_msa: r3(mean(rows['frame·labels'])),
        prompts,
        points_per_side: ppsRange ? `tuned ${ppsRange.join('–')}` : pps,
        prompt_cost: promptCost,
        train_frames: trainFrames,
        test_frames: testFrames,
      }),
    );
  } finally {
    await segmenter.dispose();
  }
}
