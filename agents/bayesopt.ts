/**
 * Bayesian optimisation: a Gaussian process (Matérn 5/2 ARD, see gp.ts) over
 * the search box mapped to the unit cube, with expected improvement (for
 * maximisation) as the acquisition. This is the agent of the earlier "LoG*"
 * reward-driven microscopy work.
 *
 * One run:
 *  1. the first ask() returns an initial Latin-hypercube design of
 *     max(5, 2d) points (option `initialPoints`), all at once;
 *  2. afterwards every ask() fits/conditions the GP on everything told and
 *     returns `batch` points (default 1) maximising EI; a batch > 1 is filled
 *     greedily with fantasies (kriging believer: the fantasy is the posterior
 *     mean; constant liar: the worst reward seen);
 *  3. hyperparameters are refitted (L-BFGS on the log marginal likelihood)
 *     once `refitEvery` new evaluations have arrived, and on every ask while
 *     there are fewer than 2·initialPoints of them; in between the GP is
 *     re-conditioned with the previous θ. Up to 4·initialPoints evaluations a
 *     fit starts from the previous θ, the default θ and `fitRestarts` seeded
 *     draws from the priors; after that from the previous θ only.
 *
 * EI is maximised by a sweep over a shifted R_d sequence plus Gaussian
 * perturbations of the best points seen, then a compass search from the best
 * few candidates. Dimensions with a step are optimised on their lattice: every
 * candidate is snapped before EI is evaluated and compass moves on them are
 * whole steps, so the GP only ever sees points that are really evaluated.
 *
 * Failed evaluations (NaN or ±∞ rewards) enter the GP as the worst finite
 * reward seen so far ("failure is as bad as the worst"), so the agent steers
 * away from them instead of proposing them again; best() ignores them.
 *
 * Stop reasons: `budget` (maxEvaluations told), `ei-small` (the largest EI,
 * in units of the rewards' standard deviation, below `eiTolerance` on
 * `eiPatience` consecutive model-based asks).
 */
import { SamstarError } from '../src/util/errors.js';
import { Rng } from '../src/util/rng.js';
import { type Box, checkPositiveInt, checkTell, fromUnit, makeBox, snapValue, toUnit } from './bo-box.js';
import { KroneckerSequence, latinHypercube } from './bo-design.js';
import { expectedImprovement, GaussianProcess, fitHyperparameters, flatten, standardise } from './gp.js';
import { z } from 'zod';
import { type AgentBest, type AskTellAgent, defineAgent, type Assert, type SameKeys, type SearchBounds } from './types.js';

export interface BayesOptOptions {
  /** Evaluation budget: stop reason `budget` once this many rewards were told (default: none). */
  readonly maxEvaluations?: number;
  /** Size of the initial Latin-hypercube design (default max(5, 2d)). */
  readonly initialPoints?: number;
  /** Points per model-based ask (default 1). */
  readonly batch?: number;
  /** How a batch > 1 is filled: 'believer' (kriging believer, default) or 'liar' (constant liar at the worst reward). */
  readonly fantasy?: 'believer' | 'liar';
  /** Refit the hyperparameters after this many new evaluations (default 5); always refit while data < 2·initialPoints. */
  readonly refitEvery?: number;
  /** Random restarts of the hyperparameter fit besides the warm start and the default (default 2; only while data ≤ 4·initialPoints). */
  readonly fitRestarts?: number;
  /** Candidates in the EI sweep (default 300 + 150·d, at most 2000). */
  readonly candidates?: number;
  /** Compass-search refinements from the best candidates (default 3). */
  readonly localStarts?: number;
  /** EI margin ξ in units of the rewards' standard deviation (default 0.01). */
  readonly xi?: number;
  /** ei-small threshold in units of the rewards' standard deviation (default 1e-6). */
  readonly eiTolerance?: number;
  /** Consecutive small-EI asks before `ei-small` (default 3). */
  readonly eiPatience?: number;
}

/** Timing and model state, for logs and benchmarks. */
export interface BayesOptDiagnostics {
  readonly evaluations: number;
  readonly asks: number;
  /** Wall time of the last ask() in ms (fit + acquisition). */
  readonly lastAskMs: number;
  /** Hyperparameter fits so far. */
  readonly fits: number;
  /** Largest EI of the last model-based ask (standardised units), NaN before the first. */
  readonly lastMaxEi: number;
  /** Length-scales (unit-cube units), signal and noise variance (reward units²) of the current model. */
  readonly lengthscales?: number[];
  readonly signalVariance?: number;
  readonly noiseVariance?: number;
}

export class BayesOpt implements AskTellAgent {
  readonly name = 'bo';
  readonly dimension: number;
  private readonly box: Box;
  private readonly rng: Rng;
  private readonly options: Required<Omit<BayesOptOptions, 'maxEvaluations'>> & { maxEvaluations: number };
  /** Told points (box coordinates) and raw rewards (NaN kept). */
  private readonly xs: number[][] = [];
  private readonly ys: number[] = [];
  private design: number[][] | undefined;
  private designUsed = 0;
  private pending: number[][] = [];
  private theta: Float64Array | undefined;
  private fittedAt = -Infinity;
  private fits = 0;
  private asks = 0;
  private smallEiStreak = 0;
  private lastMaxEi = NaN;
  private lastAskMs = 0;
  private model: GaussianProcess | undefined;
  private bestIndex = -1;
  private readonly sequence: KroneckerSequence;
  /** Unit-cube size of one lattice step per dimension (0 when continuous). */
  private readonly unitSteps: Float64Array;

  constructor(bounds: SearchBounds, seed: number, options: BayesOptOptions = {}) {
    this.box = makeBox(bounds, 'bo');
    const d = this.box.dimension;
    this.dimension = d;
    this.rng = new Rng(seed);
    checkPositiveInt('bo', 'maxEvaluations', options.maxEvaluations, true);
    checkPositiveInt('bo', 'initialPoints', options.initialPoints);
    checkPositiveInt('bo', 'batch', options.batch);
    checkPositiveInt('bo', 'refitEvery', options.refitEvery);
    checkPositiveInt('bo', 'candidates', options.candidates);
    checkPositiveInt('bo', 'localStarts', options.localStarts);
    checkPositiveInt('bo', 'eiPatience', options.eiPatience);
    if (options.fitRestarts !== undefined && !(Number.isInteger(options.fitRestarts) && options.fitRestarts >= 0)) {
      throw new SamstarError('ARGUMENT_INVALID', `bo: option "fitRestarts" = ${options.fitRestarts}; expected an integer ≥ 0`);
    }
    for (const key of ['xi', 'eiTolerance'] as const) {
      const v = options[key];
      if (v !== undefined && !(Number.isFinite(v) && v >= 0)) {
        throw new SamstarError('ARGUMENT_INVALID', `bo: option "${key}" = ${v}; expected a finite number ≥ 0`);
      }
    }
    if (options.fantasy !== undefined && options.fantasy !== 'believer' && options.fantasy !== 'liar') {
      throw new SamstarError('ARGUMENT_INVALID', `bo: option "fantasy" = ${JSON.stringify(options.fantasy)}; expected "believer" or "liar"`);
    }
    this.options = {
      maxEvaluations: options.maxEvaluations ?? Infinity,
      initialPoints: options.initialPoints ?? Math.max(5, 2 * d),
      batch: options.batch ?? 1,
      fantasy: options.fantasy ?? 'believer',
      refitEvery: options.refitEvery ?? 5,
      fitRestarts: options.fitRestarts ?? 2,
      candidates: options.candidates ?? Math.min(2000, 300 + 150 * d),
      localStarts: options.localStarts ?? 3,
      xi: options.xi ?? 0.01,
      eiTolerance: options.eiTolerance ?? 1e-6,
      eiPatience: options.eiPatience ?? 3,
    };
    this.unitSteps = Float64Array.from(this.box.steps, (s, i) => {
      const w = this.box.high[i] - this.box.low[i];
      return s > 0 && w > 0 ? s / w : 0;
    });
    this.sequence = new KroneckerSequence(d, this.rng.fork());
  }

  ask(): number[][] {
    const t0 = performance.now();
    this.asks++;
    const remaining = this.options.maxEvaluations - this.xs.length;
    let out: number[][];
    if (remaining <= 0) {
      out = [];
    } else {
      this.design ??= latinHypercube(this.options.initialPoints, this.dimension, this.rng).map((u) => fromUnit(this.box, u));
      if (this.designUsed < this.design.length) {
        const count = Math.min(remaining, this.design.length - this.designUsed);
        out = this.design.slice(this.designUsed, this.designUsed + count).map((x) => [...x]);
        this.designUsed += count;
      } else {
        out = this.modelAsk(Math.min(remaining, this.options.batch));
      }
    }
    this.pending = out.map((x) => [...x]);
    this.lastAskMs = performance.now() - t0;
    return out;
  }

  tell(candidates: readonly (readonly number[])[], rewards: readonly number[]): void {
    checkTell('bo', this.dimension, this.pending.length, candidates, rewards);
    for (let j = 0; j < candidates.length; j++) {
      this.xs.push([...candidates[j]]);
      this.ys.push(rewards[j]);
      const r = rewards[j];
      if (Number.isFinite(r) && (this.bestIndex < 0 || r > this.ys[this.bestIndex])) this.bestIndex = this.ys.length - 1;
    }
    this.pending = [];
  }

  stop(): string[] {
    const reasons: string[] = [];
    if (this.xs.length >= this.options.maxEvaluations) reasons.push('budget');
    if (this.smallEiStreak >= this.options.eiPatience) reasons.push('ei-small');
    return reasons;
  }

  best(): AgentBest | undefined {
    if (this.bestIndex < 0) return undefined;
    return { x: [...this.xs[this.bestIndex]], reward: this.ys[this.bestIndex] };
  }

  /** Timing and model state (for logs and the overhead benchmark). */
  diagnostics(): BayesOptDiagnostics {
    return {
      evaluations: this.xs.length,
      asks: this.asks,
      lastAskMs: this.lastAskMs,
      fits: this.fits,
      lastMaxEi: this.lastMaxEi,
      lengthscales: this.model?.lengthscales,
      signalVariance: this.model?.signalVariance,
      noiseVariance: this.model?.noiseVariance,
    };
  }

  /** The current GP (after at least one model-based ask), e.g. for plotting the surrogate. */
  surrogate(): GaussianProcess | undefined {
    return this.model;
  }

  /** Model-based proposals: fit/condition the GP, then maximise EI `count` times with fantasies in between. */
  private modelAsk(count: number): number[][] {
    const data = this.trainingData();
    if (data.units.length < 2) return Array.from({ length: count }, () => this.randomPoint());
    const n = data.units.length;
    const refit = !this.theta || n < 2 * this.options.initialPoints || n - this.fittedAt >= this.options.refitEvery;
    const st = standardise(data.y);
    if (refit) {
      const early = n <= 4 * this.options.initialPoints;
      const ys = Float64Array.from(data.y, (v) => (v - st.mean) / st.scale);
      this.theta = fitHyperparameters(flatten(data.units, this.dimension), ys, this.dimension, {
        rng: this.rng,
        warmStart: this.theta,
        // Extra starts matter while the data are few and the likelihood is multimodal; later the data change little
        // between refits and the warm start tracks the optimum, which keeps a refit at 100 points to ~10 ms.
        defaultStart: early,
        randomStarts: early ? this.options.fitRestarts : 0,
      });
      this.fittedAt = n;
      this.fits++;
    }
    const theta = this.theta as Float64Array;
    let gp = new GaussianProcess(data.units, data.y, theta, st);
    this.model = gp;
    const units = [...data.units];
    const y = [...data.y];
    const worst = Math.min(...data.y);
    const out: number[][] = [];
    for (let j = 0; j < count; j++) {
      const incumbent = this.incumbent(gp);
      const { u, ei } = this.maximiseEi(gp, incumbent, data.bestUnits);
      if (j === 0) {
        this.lastMaxEi = ei;
        this.smallEiStreak = ei < this.options.eiTolerance ? this.smallEiStreak + 1 : 0;
      }
      out.push(fromUnit(this.box, u));
      if (j < count - 1) {
        units.push(u);
        y.push(this.options.fantasy === 'believer' ? gp.predict(u).mean : worst);
        gp = new GaussianProcess(units, y, theta, st);
      }
    }
    return out;
  }

  /** Unit-cube inputs and rewards for the GP, failures imputed with the worst finite reward; plus the best few inputs. */
  private trainingData(): { units: Float64Array[]; y: number[]; bestUnits: Float64Array[] } {
    let worst = Infinity;
    for (const r of this.ys) if (Number.isFinite(r) && r < worst) worst = r;
    const units: Float64Array[] = [];
    const y: number[] = [];
    if (worst === Infinity) return { units, y, bestUnits: [] };
    for (let i = 0; i < this.xs.length; i++) {
      units.push(toUnit(this.box, this.xs[i]));
      y.push(Number.isFinite(this.ys[i]) ? this.ys[i] : worst);
    }
    const order = y.map((_, i) => i).sort((a, b) => y[b] - y[a] || a - b);
    const bestUnits = order.slice(0, Math.min(5, order.length)).map((i) => units[i]);
    return { units, y, bestUnits };
  }

  /** Plug-in incumbent: the largest posterior mean at the training points (standardised), robust to noisy rewards. */
  private incumbent(gp: GaussianProcess): number {
    let best = -Infinity;
    for (const m of gp.trainingMeansStandardised()) best = Math.max(best, m);
    return best;
  }

  /** Sweep + compass search for the EI maximiser (unit cube, lattice-snapped). */
  private maximiseEi(gp: GaussianProcess, incumbent: number, bestUnits: Float64Array[]): { u: Float64Array; ei: number } {
    const d = this.dimension;
    const xi = this.options.xi;
    const ei = (u: Float64Array): number => {
      const p = gp.predictStandardised(u);
      return expectedImprovement(p.mean, p.sd, incumbent, xi);
    };
    const total = this.options.candidates;
    const localCount = bestUnits.length > 0 ? Math.floor(total / 4) : 0;
    const keep = this.options.localStarts;
    const top: { u: Float64Array; v: number }[] = [];
    const consider = (u: Float64Array): void => {
      this.snapUnit(u);
      const v = ei(u);
      if (top.length < keep || v > top[top.length - 1].v) {
        if (top.some((t) => sameUnit(t.u, u))) return;
        top.push({ u: Float64Array.from(u), v });
        top.sort((a, b) => b.v - a.v);
        if (top.length > keep) top.pop();
      }
    };
    const buf = new Float64Array(d);
    for (let i = 0; i < total - localCount; i++) consider(this.sequence.next(buf));
    const ls = gp.lengthscales;
    for (let i = 0; i < localCount; i++) {
      const base = bestUnits[i % bestUnits.length];
      const scale = i % 2 === 0 ? 0.05 : 0.2;
      for (let k = 0; k < d; k++) buf[k] = base[k] + scale * Math.min(1, ls[k]) * this.rng.normal();
      consider(buf);
    }
    let best = top[0];
    for (const start of top) {
      const refined = this.compass(start.u, start.v, ei);
      if (refined.v > best.v) best = refined;
    }
    return { u: best.u, ei: best.v };
  }

  /** Compass search: ± step per dimension, halving on failure; stepped dimensions move one lattice step. */
  private compass(u0: Float64Array, v0: number, f: (u: Float64Array) => number): { u: Float64Array; v: number } {
    const d = this.dimension;
    const u = Float64Array.from(u0);
    let v = v0;
    let step = 0.05;
    const trial = new Float64Array(d);
    for (let sweep = 0; sweep < 40 && step >= 1e-3; sweep++) {
      let improved = false;
      for (let k = 0; k < d; k++) {
        const delta = this.unitSteps[k] > 0 ? this.unitSteps[k] : step;
        for (const sign of [1, -1]) {
          trial.set(u);
          trial[k] = u[k] + sign * delta;
          this.snapUnit(trial);
          if (trial[k] === u[k]) continue;
          const tv = f(trial);
          if (tv > v) {
            u.set(trial);
            v = tv;
            improved = true;
            break;
          }
        }
      }
      if (!improved) step /= 2;
    }
    return { u, v };
  }

  /** Clamp to the cube and snap stepped dimensions to their lattice (in unit coordinates). */
  private snapUnit(u: Float64Array): void {
    const { box } = this;
    for (let k = 0; k < this.dimension; k++) {
      const w = box.high[k] - box.low[k];
      if (!(w > 0)) {
        u[k] = 0;
        continue;
      }
      const x = snapValue(box, k, box.low[k] + Math.min(1, Math.max(0, u[k])) * w);
      u[k] = (x - box.low[k]) / w;
    }
  }

  private randomPoint(): number[] {
    const u = new Float64Array(this.dimension);
    for (let k = 0; k < this.dimension; k++) u[k] = this.rng.next();
    return fromUnit(this.box, u);
  }
}

function sameUnit(a: Float64Array, b: Float64Array): boolean {
  for (let k = 0; k < a.length; k++) if (Math.abs(a[k] - b[k]) > 1e-12) return false;
  return true;
}

const positiveInt = z.number().int().positive();

/** BayesOptOptions as a task config writes them (`agent: { name: bo, options: {...} }`). */
const schema = z.strictObject({
  maxEvaluations: positiveInt.optional(),
  initialPoints: positiveInt.optional(),
  batch: positiveInt.optional(),
  fantasy: z.enum(['believer', 'liar']).optional(),
  refitEvery: positiveInt.optional(),
  fitRestarts: z.number().int().min(0).optional(),
  candidates: positiveInt.optional(),
  localStarts: positiveInt.optional(),
  xi: z.number().nonnegative().finite().optional(),
  eiTolerance: z.number().nonnegative().finite().optional(),
  eiPatience: positiveInt.optional(),
});
/** Fails tsc when the schema and BayesOptOptions stop having the same keys. */
type SchemaMatchesOptions = Assert<SameKeys<z.infer<typeof schema>, BayesOptOptions>>;

/** The registry's `bo` (registry.ts). */
export const bo = defineAgent({
  name: 'bo',
  description: 'Bayesian optimisation: Matérn 5/2 GP, expected improvement',
  schema,
  create: (bounds, seed, options) => new BayesOpt(bounds, seed, options),
});
