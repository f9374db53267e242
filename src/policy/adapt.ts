import { CmaEs } from '../../agents/cmaes.js';
import { evaluateReward, type CompiledReward } from '../../rewards/index.js';
import type { Frame } from '../image/frame.js';
import type { LabelImage } from '../masks/types.js';
import { KnobMapping } from '../segmenters/knob-mapping.js';
import type { KnobSpace, KnobValues } from '../segmenters/knobs.js';
import type { Segmentation, Segmenter } from '../segmenters/types.js';
import { SamstarError } from '../util/errors.js';

/**
 * Online adaptation without a network: per frame, a short warm-started CMA-ES
 * over the filter-stage knobs, starting from the knobs that won on the
 * previous frame, with a small step size and a fixed number of evaluations;
 * optionally first a choice among propose-stage alternatives (`proposeCandidates`).
 *
 * Filter-stage knobs only: the first evaluation of a frame runs the model
 * (encode + propose) once; every other evaluation re-runs only the filter stage
 * on the frame's cached proposals (SamSegmenter, BlobSegmenter), which is what
 * makes a dozen evaluations per frame affordable on a live stream.
 *
 * Per frame:
 *  1. candidates to start from: the previous frame's winner (when there is one)
 *     and the `base` knobs for this frame (a policy's choice, or the static
 *     knobs); each is evaluated, the best is the start;
 *  2. CMA-ES (x0 = start, σ0 = sigma, λ = popsize) asks generations until the
 *     budget of evaluations (the start candidates included) is spent; a partly
 *     evaluated last generation is not told;
 *  2a. with `proposeCandidates` (propose-stage settings, e.g. blob polarity × σ
 *     range), before that: the start's filter knobs and `candidateBudget` − 1 points
 *     drawn around them (a broad σ, since a new scale may want other filter knobs)
 *     are drawn once, and every setting, the start's own included, is evaluated at
 *     those same points. Settings are compared at equal filter knobs: drawing new
 *     points around each one's best would let a setting win because its draws
 *     happened to land near a good threshold (bright particles lost to a dark
 *     setting of the support this way). The best evaluation, whichever setting it
 *     has, is where CMA-ES then starts. Each candidate runs the
 *     propose stage once per frame (the blob segmenter keeps its scale-space
 *     layers per σ, so σ ranges on one lattice share their work);
 *  3. the best evaluation wins (the start when nothing beat it) and is carried
 *     to the next frame, its propose setting included.
 * Deterministic: the CMA-ES seed is derived from `seed` and the frame's position.
 */
export interface AdaptOptions {
  readonly segmenter: Segmenter;
  readonly reward: CompiledReward;
  /** The knobs to adapt: filter-stage knobs of the segmenter (others are refused). */
  readonly space: KnobSpace;
  /** Evaluations per frame, the starting candidates included (default 12). */
  readonly budget?: number;
  /** CMA-ES σ0 in normalised units (default 0.15: a small neighbourhood of the start). */
  readonly sigma?: number;
  /** CMA-ES population (default 4). */
  readonly popsize?: number;
  /**
   * Wall-time bound per frame, ms (default none): no evaluation starts after it, beyond the
   * first (a frame always gets at least the knobs it started from). For live streams: `--adapt-ms`.
   */
  readonly timeBudgetMs?: number;
  readonly seed?: number;
  /**
   * Propose-stage settings to choose among on each frame (partial knob values, all naming the same
   * propose-stage knobs, none of them adapted knobs), e.g. every blob polarity × σ range. The base
   * knobs' own setting is always a candidate. Default none: filter-stage knobs only.
   */
  readonly proposeCandidates?: readonly KnobValues[];
  /** Evaluations per propose candidate (default 4): at the best filter knobs so far and around them. */
  readonly candidateBudget?: number;
  /** σ0 (normalised) of the points drawn around the filter knobs for each candidate (default 0.5). */
  readonly candidateSigma?: number;
}

export interface AdaptResult {
  /** The full knob vector that won. */
  readonly knobs: KnobValues;
  /** The adapted knobs only. */
  readonly tuned: KnobValues;
  readonly x: number[];
  readonly total: number;
  readonly terms: Record<string, number>;
  readonly segmentation: Segmentation;
  /** Reward of the base knobs for this frame (before adapting; NaN when a budget of 1 went to the previous frame's knobs). */
  readonly baseTotal: number;
  readonly evaluations: number;
  /** Wall time of the whole adaptation of this frame (the first, model-running evaluation included), ms. */
  readonly ms: number;
  /** Wall time of the first evaluation (encode + propose when the frame is new), ms. */
  readonly firstMs: number;
  /** Every evaluation in order: the adapted knobs and their reward (what the record keeps of the search). */
  readonly trace: { readonly tuned: KnobValues; readonly total: number }[];
  /** Whether the time budget cut the search short. */
  readonly timedOut: boolean;
}

/** The defaults: 12 evaluations per frame, σ 0.15, λ 4; per propose candidate 4 evaluations at σ 0.5. */
export const ADAPT_DEFAULTS = { budget: 12, sigma: 0.15, popsize: 4, candidateBudget: 4, candidateSigma: 0.5 } as const;

export class OnlineAdapter {
  readonly space: KnobSpace;
  readonly budget: number;
  readonly sigma: number;
  readonly popsize: number;
  readonly timeBudgetMs: number;
  readonly proposeCandidates: readonly KnobValues[];
  readonly candidateBudget: number;
  readonly candidateSigma: number;
  private readonly proposeNames: readonly string[];
  private readonly segmenter: Segmenter;
  private readonly reward: CompiledReward;
  private readonly seed: number;
  private previous?: number[];
  private previousPropose?: KnobValues;
  private frames = 0;

  constructor(options: AdaptOptions) {
    this.segmenter = options.segmenter;
    this.reward = options.reward;
    this.space = options.space;
    this.budget = options.budget ?? ADAPT_DEFAULTS.budget;
    this.sigma = options.sigma ?? ADAPT_DEFAULTS.sigma;
    this.popsize = options.popsize ?? ADAPT_DEFAULTS.popsize;
    this.timeBudgetMs = options.timeBudgetMs ?? Infinity;
    if (!(this.timeBudgetMs > 0)) throw new SamstarError('ARGUMENT_INVALID', `online adaptation: the time budget must be > 0 ms, got ${this.timeBudgetMs}`);
    this.seed = options.seed ?? 0;
    if (!Number.isInteger(this.budget) || this.budget < 1) throw new SamstarError('ARGUMENT_INVALID', `online adaptation: budget must be a whole number ≥ 1, got ${this.budget}`);
    if (!(this.sigma > 0 && this.sigma <= 2)) throw new SamstarError('ARGUMENT_INVALID', `online adaptation: sigma must be in (0, 2], got ${this.sigma}`);
    if (!Number.isInteger(this.popsize) || this.popsize < 2) throw new SamstarError('ARGUMENT_INVALID', `online adaptation: popsize must be a whole number ≥ 2, got ${this.popsize}`);
    if (this.space.dimension < 1) throw new SamstarError('ARGUMENT_INVALID', 'online adaptation: no knobs to adapt', { hint: 'adapt at least one filter-stage knob' });
    this.proposeCandidates = (options.proposeCandidates ?? []).map((c) => ({ ...c }));
    this.candidateBudget = options.candidateBudget ?? ADAPT_DEFAULTS.candidateBudget;
    this.candidateSigma = options.candidateSigma ?? ADAPT_DEFAULTS.candidateSigma;
    if (!Number.isInteger(this.candidateBudget) || this.candidateBudget < 1) throw new SamstarError('ARGUMENT_INVALID', `online adaptation: candidateBudget must be a whole number ≥ 1, got ${this.candidateBudget}`);
    if (!(this.candidateSigma > 0 && this.candidateSigma <= 2)) throw new SamstarError('ARGUMENT_INVALID', `online adaptation: candidateSigma must be in (0, 2], got ${this.candidateSigma}`);
    this.proposeNames = this.proposeCandidates.length ? Object.keys(this.proposeCandidates[0]).sort() : [];
    this.proposeCandidates.forEach((candidate, i) => {
      const names = Object.keys(candidate).sort();
      if (names.length === 0 || names.join() !== this.proposeNames.join()) {
        throw new SamstarError('ARGUMENT_INVALID', `online adaptation: propose candidate ${i} sets ${names.join(', ') || 'no knob'}; every candidate must set the same knobs (${this.proposeNames.join(', ')})`);
      }
      for (const name of names) {
        if (!this.segmenter.knobs.names.includes(name)) throw new SamstarError('ARGUMENT_INVALID', `online adaptation: propose candidate ${i}: ${this.segmenter.name} has no knob "${name}"`);
        if (this.space.names.includes(name)) throw new SamstarError('ARGUMENT_INVALID', `online adaptation: "${name}" is both adapted and set by the propose candidates`);
        if (this.segmenter.knobs.spec(name).stage === 'filter') {
          throw new SamstarError('ARGUMENT_INVALID', `online adaptation: propose candidate ${i} sets the filter-stage knob "${name}"; adapt it instead (candidates are for propose-stage knobs)`);
        }
      }
      this.segmenter.knobs.resolve(candidate, `online adaptation: propose candidate ${i}`); // valid values
    });
    for (const spec of this.space.specs) {
      const own = this.segmenter.knobs.spec(spec.name);
      if (own.stage !== 'filter') {
        throw new SamstarError('ARGUMENT_INVALID', `online adaptation tunes filter-stage knobs only; "${spec.name}" is a ${own.stage}-stage knob (changing it re-runs the model)`, {
          hint: `filter-stage knobs of ${this.segmenter.name}: ${filterKnobNames(this.segmenter.knobs).join(', ')}`,
        });
      }
    }
  }

  /** Forget the previous frame's knobs (a new stream). */
  reset(): void {
    this.previous = undefined;
    this.previousPropose = undefined;
    this.frames = 0;
  }

  /** The adapted knobs carried to the next frame (normalised), if any. */
  get carried(): number[] | undefined {
    return this.previous ? [...this.previous] : undefined;
  }

  /**
   * Adapt to one frame. `base` is the full knob vector for this frame before
   * adapting (a policy's choice); the adapted knobs replace its entries.
   */
  async adapt(frame: Frame, base: KnobValues, options: { truth?: LabelImage; id?: string } = {}): Promise<AdaptResult> {
    const started = performance.now();
    const names = this.space.names;
    // The adapted knobs move, and so does the propose setting among the candidates; every other
    // entry of `base` is held (the one mapping from a point to knobs, one per propose setting).
    const held: KnobValues = { ...base };
    for (const n of names) delete held[n];
    for (const n of this.proposeNames) delete held[n];
    const mappings = new Map<string, KnobMapping>();
    const mappingFor = (propose: KnobValues): KnobMapping => {
      const key = JSON.stringify(this.proposeNames.map((n) => propose[n]));
      let mapping = mappings.get(key);
      if (!mapping) {
        mapping = new KnobMapping(this.segmenter.knobs, this.space, { ...held, ...propose }, 'online adaptation');
        mappings.set(key, mapping);
      }
      return mapping;
    };
    const proposeOf = (values: KnobValues): KnobValues => Object.fromEntries(this.proposeNames.map((n) => [n, values[n]]));
    const sameSetting = (a: KnobValues, b: KnobValues): boolean => this.proposeNames.every((n) => a[n] === b[n]);
    let evaluations = 0;
    let firstMs = 0;
    const trace: { tuned: KnobValues; total: number }[] = [];
    let timedOut = false;
    // Evaluations left: the budget's, and none once the time is up (the first always runs).
    const canEvaluate = (): boolean => {
      if (evaluations >= this.budget) return false;
      if (evaluations > 0 && performance.now() - started >= this.timeBudgetMs) {
        timedOut = true;
        return false;
      }
      return true;
    };
    type Evaluated = { x: number[]; propose: KnobValues; total: number; terms: Record<string, number>; segmentation: Segmentation };
    const evaluate = async (x: readonly number[], propose: KnobValues): Promise<Evaluated> => {
      const t0 = performance.now();
      const mapping = mappingFor(propose);
      const knobs = mapping.knobsOf(x);
      const segmentation = await this.segmenter.segment(frame, knobs);
      const r = evaluateReward(this.reward, segmentation, { frame, truth: options.truth, source: options.id ?? frame.source });
      if (evaluations === 0) firstMs = performance.now() - t0;
      evaluations++;
      const total = Number.isFinite(r.total) ? r.total : Number.NaN;
      trace.push({ tuned: { ...mapping.tunedOf(knobs), ...propose }, total });
      return { x: [...x], propose, total, terms: r.terms, segmentation };
    };

    const baseValues: KnobValues = {};
    for (const n of names) baseValues[n] = base[n];
    const baseX = this.space.toNormalised(baseValues).map(clip1);
    const basePropose = proposeOf(base);
    const starts: { x: number[]; propose: KnobValues }[] = [{ x: baseX, propose: basePropose }];
    if (this.previous && !(sameVector(this.previous, baseX) && sameSetting(this.previousPropose ?? {}, basePropose))) {
      starts.unshift({ x: this.previous, propose: this.previousPropose ?? basePropose });
    }

    let best: Evaluated | undefined;
    let baseTotal = Number.NaN;
    for (const start of starts) {
      if (best && !canEvaluate()) break;
      const r = await evaluate(start.x, start.propose);
      if (start.x === baseX) baseTotal = r.total;
      if (!best || better(r.total, best.total)) best = r;
    }

    // Propose-stage candidates: every setting at the same points, the start's filter knobs and a
    // broad draw around them (see 2a above).
    if (this.proposeCandidates.length) {
      const around = new CmaEs(this.space.searchBounds(), mix(this.seed, this.frames * 1000 + 1), { x0: best!.x, sigma0: this.candidateSigma, popsize: Math.max(2, this.candidateBudget - 1) });
      const points = [best!.x, ...around.ask().slice(0, this.candidateBudget - 1)];
      const settings: KnobValues[] = [];
      for (const setting of [...starts.map((st) => st.propose), ...this.proposeCandidates]) {
        if (!settings.some((t) => sameSetting(t, setting))) settings.push(setting);
      }
      const done = starts.map((st) => ({ x: st.x, propose: st.propose }));
      candidates: for (const setting of settings) {
        for (const x of points) {
          if (done.some((d) => sameSetting(d.propose, setting) && sameVector(d.x, x))) continue;
          if (!canEvaluate()) break candidates;
          done.push({ x, propose: setting });
          const r = await evaluate(x, setting);
          if (better(r.total, best!.total)) best = r;
        }
      }
    }

    if (canEvaluate()) {
      const propose = best!.propose;
      const es = new CmaEs(this.space.searchBounds(), mix(this.seed, this.frames), { x0: best!.x, sigma0: this.sigma, popsize: this.popsize });
      while (canEvaluate() && es.stop().length === 0) {
        const candidates = es.ask();
        const rewards: number[] = [];
        for (const x of candidates) {
          if (!canEvaluate()) break;
          const r = await evaluate(x, propose);
          rewards.push(r.total);
          if (better(r.total, best!.total)) best = r;
        }
        if (rewards.length < candidates.length) break;
        es.tell(candidates, rewards);
      }
    }
    const winner = best!;
    if (!Number.isFinite(winner.total)) {
      throw new SamstarError('CONFIG_INVALID', `online adaptation: no finite reward on ${options.id ?? frame.source} in ${evaluations} evaluation(s)`, {
        hint: 'guard the reward\'s total expression so that every segmentation has a finite reward',
      });
    }
    this.previous = winner.x;
    this.previousPropose = winner.propose;
    this.frames++;
    const knobs = mappingFor(winner.propose).knobsOf(winner.x);
    const tuned: KnobValues = {};
    for (const n of [...names, ...this.proposeNames]) tuned[n] = knobs[n];
    return {
      knobs,
      tuned,
      x: winner.x,
      total: winner.total,
      terms: winner.terms,
      segmentation: winner.segmentation,
      baseTotal,
      evaluations,
      ms: performance.now() - started,
      firstMs,
      trace,
      timedOut,
    };
  }
}

/** Filter-stage knobs of a knob space. */
export function filterKnobNames(space: KnobSpace): string[] {
  return space.specs.filter((s) => s.stage === 'filter').map((s) => s.name);
}

function better(a: number, b: number): boolean {
  return Number.isFinite(a) && (!Number.isFinite(b) || a > b);
}

function clip1(v: number): number {
  return v > 1 ? 1 : v < -1 ? -1 : v;
}

function sameVector(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function mix(seed: number, frame: number): number {
  let h = (seed ^ 0x2545f491) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  h = (h + Math.imul(frame + 1, 0x9e3779b1)) >>> 0;
  return Math.imul(h ^ (h >>> 13), 0x297a2d39) >>> 0;
}
