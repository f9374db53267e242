/**
 * CMA-ES (Hansen's tutorial, 2016) behind the ask/tell agent contract.
 *
 * - Defaults: λ = 4 + ⌊3 ln n⌋, μ = ⌊λ/2⌋, log weights, c_σ, d_σ, c_c, c₁, and
 *   pycma's c_μ (with its extra 1/4), as in cmaes-params.ts.
 * - Active CMA (default on): the λ − μ worst samples get negative weights,
 *   scaled so Σ|w⁻| = min(1 + c₁/c_μ, 1 + 2μ⁻_eff/(μ_eff + 2), (1 − c₁ − c_μ)/(n c_μ));
 *   in the rank-μ update their vectors are normalised to Mahalanobis length √n
 *   (w°ᵢ = wᵢ·n/‖C^{-1/2}yᵢ‖²), which keeps C positive definite.
 * - Step size by CSA (σ ← σ·exp(c_σ/d_σ (‖p_σ‖/E‖N(0,I)‖ − 1))), rank-one
 *   update with the h_σ stall, rank-μ update; the eigendecomposition of C
 *   (cyclic Jacobi, linalg.ts) is refreshed every λ/(c₁ + c_μ)/n/10 evaluations.
 * - Bounds: pycma's BoundTransform (cmaes-space.ts). The internal mean may sit
 *   outside the box; every asked point is inside it. Never plain clipping.
 * - Integer dimensions (bounds.steps[i] > 0): CMA-ES with Margin (Hamano et al.,
 *   GECCO 2022). A candidate's integer coordinate is the grid level nearest to
 *   mᵢ + Aᵢ·σ·yᵢ, and after every update the mean and the per-coordinate scale Aᵢ
 *   are corrected so that the marginal probability of sampling a level other
 *   than the mean's is at least α = 1/(nλ) (α/2 on each side of an inner level,
 *   α towards the only neighbour of an extreme level). The CMA update itself
 *   sees the raw (unrounded, unscaled) samples.
 * - Restarts: IPOP (λ multiplied by `popsizeIncrease` at each restart) when an
 *   internal stop fires (tolfun, tolx, conditioncov, stagnation, noeffectaxis,
 *   noeffectcoord, tolupsigma); stop() reports those only once restarts are used up.
 *   A restart starts from a uniform sample of the box (bounded) or from x0 (unbounded).
 * - Plateaus (as pycma): when the best and the ⌈λ/4 + 0.1⌉-th value are equal, σ is
 *   multiplied by exp(0.2 + c_σ/d_σ). In a finite box σ is capped so that no
 *   coordinate's std exceeds the box width (wider only resamples the folds).
 * - Stops: tolfun needs a full history (10 + ⌈30n/λ⌉ generations) so that a
 *   plateau at the start does not end the run at once; stagnation follows the
 *   tutorial (medians of the latest vs the earliest 30% of the best and median
 *   values over max(120 + 30n/λ, 20% of the run) generations).
 *
 * The core minimises f; the AskTellAgent face maximises rewards (f = −reward,
 * NaN → worst). `CmaEs.minimise` is the minimising convenience for benchmarks.
 */
import { SamstarError } from '../src/util/errors.js';
import { Rng } from '../src/util/rng.js';
import { cmaesParameters, type CmaEsParameters } from './cmaes-params.js';
import {
  boundTransform,
  boundTransformInverse,
  type Coord,
  CoordKind,
  encodeInteger,
  levelIndex,
  makeCoords,
} from './cmaes-space.js';
import { normalCdf, normalQuantile } from './normal.js';
import { symmetricEigen } from './linalg.js';
import { z } from 'zod';
import { type AgentBest, type AskTellAgent, defineAgent, type Assert, type SameKeys, type SearchBounds } from './types.js';

export type CmaEsStopReason =
  | 'target'
  | 'budget'
  | 'tolfun'
  | 'tolx'
  | 'conditioncov'
  | 'stagnation'
  | 'noeffectaxis'
  | 'noeffectcoord'
  | 'tolupsigma';

export interface CmaEsOptions {
  /**
   * Initial mean, in box units (the evaluated space). Default: the box centre
   * ('centre'), or 'uniform' for a uniform sample in the box from the seed.
   * Required (as numbers) when the box is unbounded, else zeros.
   */
  x0?: readonly number[] | 'centre' | 'uniform';
  /** Initial step size. Default: per-coordinate std 0.3·(high − low) in bounded mode, 1 when unbounded. */
  sigma0?: number;
  /** λ of the first run (default 4 + ⌊3 ln n⌋). */
  popsize?: number;
  /** Stop ('budget') once this many evaluations are told (default: none for the agent, 1e3·(n+5)²·(restarts+1) for minimise). */
  maxEvaluations?: number;
  /** Stop ('target') once the minimised f ≤ fTarget (f = −reward in the agent face). */
  fTarget?: number;
  /** Agent face: stop ('target') once a reward ≥ rewardTarget is told (the same as fTarget = −rewardTarget). */
  rewardTarget?: number;
  /** IPOP restarts after internal stops (default 0). */
  restarts?: number;
  /** λ multiplier per restart (default 2). */
  popsizeIncrease?: number;
  /** Active (negative) weights (default true). */
  active?: boolean;
  /** tolfun: range of recent best f and of the generation's f below this (default 1e-11). */
  tolFun?: number;
  /** tolx: σ·max(√C_ii, |p_c,i|) below this in every coordinate (default 1e-11). */
  tolX?: number;
  /** conditioncov: cond(C) above this (default 1e14). */
  tolConditionCov?: number;
  /** tolupsigma: σ·max √eig(C) grew by more than this factor (default 1e20). */
  tolUpSigma?: number;
  /** stagnation: minimum history in generations (default 120 + 30n/λ). */
  tolStagnation?: number;
  /** Margin α for integer coordinates (default 1/(nλ)). */
  margin?: number;
}

export interface CmaEsRunRecord {
  readonly lambda: number;
  readonly generations: number;
  readonly evaluations: number;
  readonly reasons: string[];
}

export interface CmaEsDiagnostics {
  readonly evaluations: number;
  readonly generation: number;
  readonly runGeneration: number;
  readonly lambda: number;
  readonly sigma: number;
  /** Internal mean (may lie outside the box). */
  readonly mean: number[];
  /** Effective sampling std per coordinate, σ·Aᵢ·√C_ii (internal units). */
  readonly stds: number[];
  /** Integer-margin scale Aᵢ (1 for continuous coordinates). */
  readonly marginScale: number[];
  readonly condition: number;
  readonly restarts: number;
  readonly runs: CmaEsRunRecord[];
}

/** Settings for experiments, outside the agent options (and the registry's schema). */
export interface CmaEsExperimentOptions {
  /** c_μ formula: 'pycma' (default, with pycma's extra 1/4) or 'tutorial' (without it), see cmaes-params.ts. */
  cmuFormula?: 'tutorial' | 'pycma';
}

export interface CmaEsMinimiseOptions extends CmaEsOptions, CmaEsExperimentOptions {
  /** Box (default unbounded, dimension from x0). */
  bounds?: SearchBounds;
  seed?: number;
}

export interface CmaEsMinimiseResult {
  x: number[];
  f: number;
  evaluations: number;
  stops: string[];
  restarts: number;
}

const INTERNAL_STOPS: ReadonlySet<string> = new Set(['tolfun', 'tolx', 'conditioncov', 'stagnation', 'noeffectaxis', 'noeffectcoord', 'tolupsigma']);

/** State of one (re)start: everything λ-sized lives here. */
class Run {
  readonly p: CmaEsParameters;
  readonly n: number;
  readonly lambda: number;
  readonly m: Float64Array;
  sigma: number;
  readonly C: Float64Array;
  readonly B: Float64Array;
  /** √eigenvalues of C. */
  readonly D: Float64Array;
  /** B·diag(D): y = BD z. */
  readonly BD: Float64Array;
  /** Sampling variances diag(BD BDᵀ) (the C the current samples come from). */
  readonly sampleVar: Float64Array;
  readonly ps: Float64Array;
  readonly pc: Float64Array;
  /** Margin scale (integer coordinates). */
  readonly A: Float64Array;
  readonly Z: Float64Array;
  readonly Y: Float64Array;
  readonly P: Float64Array;
  readonly fit: Float64Array;
  readonly order: number[];
  readonly zw: Float64Array;
  readonly yw: Float64Array;
  readonly eigWork: Float64Array;
  readonly eigValues: Float64Array;
  generation = 0;
  evalsSinceEigen = 0;
  readonly eigenGap: number;
  condition = 1;
  readonly sigmaScale0: number;
  readonly histBest: number[] = [];
  readonly histCapacity: number;
  readonly stagBest: number[] = [];
  readonly stagMedian: number[] = [];
  readonly stagMin: number;
  readonly margin: number;

  constructor(n: number, lambda: number, active: boolean, x0: Float64Array, sigma0: number, scales: Float64Array, options: CmaEsOptions & CmaEsExperimentOptions) {
    this.p = cmaesParameters(n, { popsize: lambda, active, cmu: options.cmuFormula });
    this.n = n;
    this.lambda = lambda;
    this.m = Float64Array.from(x0);
    this.sigma = sigma0;
    this.C = new Float64Array(n * n);
    this.B = new Float64Array(n * n);
    this.D = new Float64Array(n);
    this.BD = new Float64Array(n * n);
    this.sampleVar = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      this.C[i * n + i] = scales[i] * scales[i];
      this.B[i * n + i] = 1;
      this.D[i] = scales[i];
      this.BD[i * n + i] = scales[i];
      this.sampleVar[i] = scales[i] * scales[i];
    }
    this.ps = new Float64Array(n);
    this.pc = new Float64Array(n);
    this.A = new Float64Array(n).fill(1);
    this.Z = new Float64Array(lambda * n);
    this.Y = new Float64Array(lambda * n);
    this.P = new Float64Array(lambda * n);
    this.fit = new Float64Array(lambda);
    this.order = Array.from({ length: lambda }, (_, i) => i);
    this.zw = new Float64Array(n);
    this.yw = new Float64Array(n);
    this.eigWork = new Float64Array(n * n);
    this.eigValues = new Float64Array(n);
    this.eigenGap = lambda / (this.p.c1 + this.p.cmu) / n / 10;
    let maxD = 0;
    let minD = Infinity;
    for (let i = 0; i < n; i++) {
      maxD = Math.max(maxD, scales[i]);
      minD = Math.min(minD, scales[i]);
    }
    this.condition = (maxD / minD) ** 2;
    this.sigmaScale0 = sigma0 * maxD;
    this.histCapacity = 10 + Math.ceil((30 * n) / lambda);
    this.stagMin = options.tolStagnation ?? 120 + (30 * n) / lambda;
    this.margin = options.margin ?? 1 / (n * lambda);
  }
}

export class CmaEs implements AskTellAgent {
  readonly name = 'cmaes';
  readonly dimension: number;
  private readonly coords: Coord[];
  private readonly rng: Rng;
  private readonly options: CmaEsOptions & CmaEsExperimentOptions;
  private readonly active: boolean;
  private readonly x0: Float64Array;
  private readonly sigma0: number;
  private readonly scales: Float64Array;
  /** Every non-fixed coordinate has finite bounds. */
  private readonly boxed: boolean;
  /** Per-coordinate cap on σ·√C_ii (the box width) in boxed mode. */
  private readonly widths: Float64Array;
  private readonly integerIdx: number[];
  private readonly fTarget: number;
  private readonly maxEvaluations: number;
  private readonly restarts: number;
  private readonly popsizeIncrease: number;
  private run: Run;
  private evaluations = 0;
  private generations = 0;
  private restartsDone = 0;
  private pending = false;
  private internalReasons: string[] = [];
  private readonly runLog: CmaEsRunRecord[] = [];
  private runEvalStart = 0;
  private bestX: number[] | undefined;
  private bestF = Infinity;

  constructor(bounds: SearchBounds, seed: number, options: CmaEsOptions & CmaEsExperimentOptions = {}) {
    this.coords = makeCoords(bounds);
    const n = this.coords.length;
    this.dimension = n;
    this.rng = new Rng(seed);
    this.options = options;
    this.active = options.active ?? true;
    this.restarts = options.restarts ?? 0;
    this.popsizeIncrease = options.popsizeIncrease ?? 2;
    this.maxEvaluations = options.maxEvaluations ?? Infinity;
    this.fTarget = options.fTarget ?? (options.rewardTarget !== undefined ? -options.rewardTarget : -Infinity);
    if (!Number.isInteger(this.restarts) || this.restarts < 0) throw new SamstarError('ARGUMENT_INVALID', `CMA-ES restarts must be an integer ≥ 0, got ${this.restarts}`);
    if (!(this.popsizeIncrease >= 1)) throw new SamstarError('ARGUMENT_INVALID', `CMA-ES popsizeIncrease must be ≥ 1, got ${this.popsizeIncrease}`);
    this.integerIdx = [];
    this.widths = new Float64Array(n);
    let boxed = true;
    for (let i = 0; i < n; i++) {
      const c = this.coords[i];
      if (c.kind === CoordKind.Integer) this.integerIdx.push(i);
      this.widths[i] = c.high - c.low;
      if (c.kind !== CoordKind.Fixed && !Number.isFinite(this.widths[i])) boxed = false;
    }
    this.boxed = boxed;

    // Step sizes: σ0 uniform when given, else 0.3·width per coordinate (1 for unbounded ones).
    this.scales = new Float64Array(n).fill(1);
    if (options.sigma0 !== undefined) {
      if (!(options.sigma0 > 0) || !Number.isFinite(options.sigma0)) throw new SamstarError('ARGUMENT_INVALID', `CMA-ES sigma0 must be a positive number, got ${options.sigma0}`);
      this.sigma0 = options.sigma0;
    } else {
      const target = new Float64Array(n);
      let logSum = 0;
      let count = 0;
      for (let i = 0; i < n; i++) {
        const w = this.widths[i];
        target[i] = Number.isFinite(w) && w > 0 ? 0.3 * w : 1;
        if (this.coords[i].kind !== CoordKind.Fixed) {
          logSum += Math.log(target[i]);
          count++;
        }
      }
      this.sigma0 = count ? Math.exp(logSum / count) : 1;
      for (let i = 0; i < n; i++) this.scales[i] = target[i] / this.sigma0;
    }

    this.x0 = this.initialMean(options.x0);
    const lambda = options.popsize ?? 4 + Math.floor(3 * Math.log(n));
    this.run = new Run(n, lambda, this.active, this.x0, this.sigma0, this.scales, options);
  }

  /** Minimise f (a convenience for benchmarks and standalone use). Deterministic for a seed. */
  static minimise(f: (x: number[]) => number, options: CmaEsMinimiseOptions): CmaEsMinimiseResult {
    let bounds = options.bounds;
    if (!bounds) {
      if (!Array.isArray(options.x0)) throw new SamstarError('ARGUMENT_INVALID', 'CmaEs.minimise needs bounds or a numeric x0');
      const n = options.x0.length;
      bounds = { low: new Array<number>(n).fill(-Infinity), high: new Array<number>(n).fill(Infinity) };
    }
    const n = bounds.low.length;
    const maxEvaluations = options.maxEvaluations ?? 1e3 * (n + 5) ** 2 * ((options.restarts ?? 0) + 1);
    const es = new CmaEs(bounds, options.seed ?? 1, { ...options, maxEvaluations });
    while (es.stop().length === 0) {
      const run = es.sampleGeneration();
      const { fit, P } = run;
      for (let k = 0; k < run.lambda; k++) {
        const x = new Array<number>(n);
        for (let i = 0; i < n; i++) x[i] = P[k * n + i];
        const v = f(x);
        fit[k] = Number.isNaN(v) ? Infinity : v;
      }
      es.update(run.P);
    }
    return { x: es.bestX ? [...es.bestX] : [], f: es.bestF, evaluations: es.evaluations, stops: es.stop(), restarts: es.restartsDone };
  }

  get populationSize(): number {
    return this.run.lambda;
  }

  get parameters(): CmaEsParameters {
    return this.run.p;
  }

  ask(): number[][] {
    const run = this.pending ? this.run : this.sampleGeneration();
    const { n, lambda, P } = run;
    const out: number[][] = new Array(lambda);
    for (let k = 0; k < lambda; k++) {
      const x = new Array<number>(n);
      for (let i = 0; i < n; i++) x[i] = P[k * n + i];
      out[k] = x;
    }
    return out;
  }

  tell(candidates: readonly (readonly number[])[], rewards: readonly number[]): void {
    if (!this.pending) throw new SamstarError('ARGUMENT_INVALID', 'CMA-ES tell() called without a pending ask()', { hint: 'call ask() first and tell the rewards of exactly those candidates' });
    const run = this.run;
    const lambda = run.lambda;
    if (rewards.length !== lambda || candidates.length !== lambda) {
      throw new SamstarError('ARGUMENT_INVALID', `CMA-ES tell() got ${candidates.length} candidates and ${rewards.length} rewards, expected ${lambda} (the last ask())`, {
        hint: 'tell the rewards of every candidate of the last ask(), in the same order',
      });
    }
    for (let k = 0; k < lambda; k++) {
      if (candidates[k].length !== this.dimension) throw new SamstarError('ARGUMENT_INVALID', `CMA-ES tell(): candidate ${k} has ${candidates[k].length} entries, expected ${this.dimension}`);
      const r = rewards[k];
      run.fit[k] = Number.isNaN(r) ? Infinity : -r;
    }
    this.update(candidates);
  }

  stop(): string[] {
    const reasons: string[] = [];
    if (this.bestF <= this.fTarget) reasons.push('target');
    if (this.evaluations >= this.maxEvaluations) reasons.push('budget');
    if (this.restartsDone >= this.restarts) for (const r of this.internalReasons) reasons.push(r);
    return reasons;
  }

  best(): AgentBest | undefined {
    return this.bestX ? { x: [...this.bestX], reward: -this.bestF } : undefined;
  }

  diagnostics(): CmaEsDiagnostics {
    const run = this.run;
    const n = run.n;
    const stds: number[] = [];
    for (let i = 0; i < n; i++) stds.push(run.sigma * run.A[i] * Math.sqrt(run.sampleVar[i]));
    return {
      evaluations: this.evaluations,
      generation: this.generations,
      runGeneration: run.generation,
      lambda: run.lambda,
      sigma: run.sigma,
      mean: [...run.m],
      stds,
      marginScale: [...run.A],
      condition: run.condition,
      restarts: this.restartsDone,
      runs: [...this.runLog, { lambda: run.lambda, generations: run.generation, evaluations: this.evaluations - this.runEvalStart, reasons: [...this.internalReasons] }],
    };
  }

  // -------------------------------------------------------------------------

  private initialMean(x0: CmaEsOptions['x0']): Float64Array {
    const n = this.dimension;
    const out = new Float64Array(n);
    if (Array.isArray(x0)) {
      if (x0.length !== n) throw new SamstarError('ARGUMENT_INVALID', `CMA-ES x0 has ${x0.length} entries, expected ${n}`);
      for (let i = 0; i < n; i++) {
        if (!Number.isFinite(x0[i])) throw new SamstarError('ARGUMENT_INVALID', `CMA-ES x0[${i}] = ${x0[i]} is not a finite number`);
        out[i] = this.genotypeOf(i, x0[i]);
      }
      return out;
    }
    const mode = x0 ?? 'centre';
    if (mode === 'uniform') {
      if (!this.boxed) throw new SamstarError('ARGUMENT_INVALID', "CMA-ES x0 'uniform' needs a finite box");
      return this.uniformMean();
    }
    for (let i = 0; i < n; i++) {
      const { low, high } = this.coords[i];
      const centre = Number.isFinite(low) && Number.isFinite(high) ? (low + high) / 2 : Number.isFinite(low) ? low + 1 : Number.isFinite(high) ? high - 1 : 0;
      out[i] = this.genotypeOf(i, centre);
    }
    return out;
  }

  private uniformMean(): Float64Array {
    const out = new Float64Array(this.dimension);
    for (let i = 0; i < this.dimension; i++) {
      const { low, high } = this.coords[i];
      out[i] = this.genotypeOf(i, low === high ? low : this.rng.uniform(low, high));
    }
    return out;
  }

  /** An internal value whose evaluated value is y. */
  private genotypeOf(i: number, y: number): number {
    const c = this.coords[i];
    switch (c.kind) {
      case CoordKind.Bounded:
        return boundTransformInverse(c, y);
      case CoordKind.Integer:
      case CoordKind.Fixed:
        return Math.min(c.high, Math.max(c.low, y));
      default:
        return y;
    }
  }

  /** Draws λ candidates into the run's buffers (Z, Y internal; P evaluated). */
  private sampleGeneration(): Run {
    const run = this.run;
    const { n, lambda, Z, Y, P, BD, m, A } = run;
    const sigma = run.sigma;
    const coords = this.coords;
    const rng = this.rng;
    for (let k = 0; k < lambda; k++) {
      const o = k * n;
      for (let i = 0; i < n; i++) Z[o + i] = rng.normal();
      for (let i = 0; i < n; i++) {
        let y = 0;
        const r = i * n;
        for (let j = 0; j < n; j++) y += BD[r + j] * Z[o + j];
        Y[o + i] = y;
        const x = m[i] + sigma * y;
        const c = coords[i];
        switch (c.kind) {
          case CoordKind.Free:
            P[o + i] = x;
            break;
          case CoordKind.Bounded:
            P[o + i] = boundTransform(c, x);
            break;
          case CoordKind.Integer:
            P[o + i] = encodeInteger(c, m[i] + A[i] * sigma * y);
            break;
          default:
            P[o + i] = c.low;
        }
      }
    }
    this.pending = true;
    return run;
  }

  /** One CMA update from run.fit (minimised; NaN already mapped to +∞). */
  private update(told: readonly (readonly number[])[] | Float64Array): void {
    const run = this.run;
    const p = run.p;
    const { n, lambda, m, C, B, ps, pc, Z, Y, fit, order, zw, yw } = run;
    this.pending = false;
    this.evaluations += lambda;
    this.generations++;

    // Best so far (in-box points, as told).
    for (let k = 0; k < lambda; k++) {
      if (fit[k] < this.bestF || (this.bestX === undefined && fit[k] !== Infinity)) {
        this.bestF = fit[k];
        if (told instanceof Float64Array) this.bestX = Array.from(told.subarray(k * n, (k + 1) * n));
        else this.bestX = [...told[k]];
      }
    }

    for (let k = 0; k < lambda; k++) order[k] = k;
    order.sort((a, b) => (fit[a] < fit[b] ? -1 : fit[a] > fit[b] ? 1 : a - b));

    // Mean.
    const w = p.weights;
    zw.fill(0);
    yw.fill(0);
    for (let r = 0; r < p.mu; r++) {
      const o = order[r] * n;
      const wr = w[r];
      for (let i = 0; i < n; i++) {
        zw[i] += wr * Z[o + i];
        yw[i] += wr * Y[o + i];
      }
    }
    const sigma = run.sigma;
    for (let i = 0; i < n; i++) m[i] += p.cm * sigma * yw[i];

    // Evolution paths. C^{-1/2} y = B z for y = B D z.
    const csn = Math.sqrt(p.cs * (2 - p.cs) * p.mueff);
    let psNorm2 = 0;
    for (let i = 0; i < n; i++) {
      let bz = 0;
      for (let j = 0; j < n; j++) bz += B[i * n + j] * zw[j];
      ps[i] = (1 - p.cs) * ps[i] + csn * bz;
      psNorm2 += ps[i] * ps[i];
    }
    run.generation++;
    const psNorm = Math.sqrt(psNorm2);
    const hsig = psNorm / Math.sqrt(1 - (1 - p.cs) ** (2 * run.generation)) / p.chiN < 1.4 + 2 / (n + 1) ? 1 : 0;
    const ccn = hsig * Math.sqrt(p.cc * (2 - p.cc) * p.mueff);
    for (let i = 0; i < n; i++) pc[i] = (1 - p.cc) * pc[i] + ccn * yw[i];

    // Covariance: decay, rank one, rank μ with active weights (upper triangle, mirrored after).
    const deltaH = (1 - hsig) * p.cc * (2 - p.cc);
    const decay = 1 + p.c1 * deltaH - p.c1 - p.cmu * p.weightSum;
    for (let i = 0; i < n; i++) {
      const pci = p.c1 * pc[i];
      for (let j = i; j < n; j++) C[i * n + j] = decay * C[i * n + j] + pci * pc[j];
    }
    for (let r = 0; r < lambda; r++) {
      let wr = w[r];
      if (wr === 0) continue;
      const o = order[r] * n;
      if (wr < 0) {
        let z2 = 0;
        for (let i = 0; i < n; i++) z2 += Z[o + i] * Z[o + i];
        if (!(z2 > 0)) continue;
        wr *= n / z2;
      }
      const cw = p.cmu * wr;
      for (let i = 0; i < n; i++) {
        const yi = cw * Y[o + i];
        const row = i * n;
        for (let j = i; j < n; j++) C[row + j] += yi * Y[o + j];
      }
    }
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) C[j * n + i] = C[i * n + j];

    // Step size (CSA), exponent capped at 1 as in pycma.
    run.sigma *= Math.exp(Math.min(1, (p.cs / p.ds) * (psNorm / p.chiN - 1)));
    // Flat fitness (pycma): a plateau gives no ranking, so widen the search.
    if (fit[order[0]] === fit[order[Math.min(lambda - 1, Math.ceil(0.1 + lambda / 4))]]) run.sigma *= Math.exp(0.2 + p.cs / p.ds);

    // Eigendecomposition (lazy).
    run.evalsSinceEigen += lambda;
    if (run.evalsSinceEigen >= run.eigenGap) {
      run.evalsSinceEigen = 0;
      this.decompose(run);
    }

    // In a box, a std beyond the box width samples nothing new: cap σ there.
    if (this.boxed) {
      let ratio = 0;
      for (let i = 0; i < n; i++) {
        if (this.coords[i].kind === CoordKind.Fixed) continue;
        ratio = Math.max(ratio, (run.sigma * Math.sqrt(run.sampleVar[i])) / this.widths[i]);
      }
      if (ratio > 1) run.sigma /= ratio;
    }

    if (this.integerIdx.length) this.applyMargin(run);

    this.internalReasons = this.checkStops(run);
    if (this.internalReasons.length && this.restartsDone < this.restarts && this.bestF > this.fTarget && this.evaluations < this.maxEvaluations) this.restart();
  }

  private decompose(run: Run): void {
    const { n, C, B, D, BD, eigValues, eigWork, sampleVar } = run;
    symmetricEigen(n, C, eigValues, B, eigWork);
    let maxE = -Infinity;
    let minE = Infinity;
    for (let k = 0; k < n; k++) {
      maxE = Math.max(maxE, eigValues[k]);
      minE = Math.min(minE, eigValues[k]);
    }
    if (!(maxE > 0) || !Number.isFinite(maxE)) {
      // C broke down (cannot happen with the bounded weights unless f is pathological): reset to the identity shape.
      C.fill(0);
      B.fill(0);
      for (let i = 0; i < n; i++) {
        C[i * n + i] = 1;
        B[i * n + i] = 1;
        eigValues[i] = 1;
      }
      maxE = minE = 1;
    } else if (minE <= maxE * 1e-17) {
      // Numerically non-positive: lift the spectrum (adding a multiple of I keeps the eigenvectors).
      const add = maxE * 1e-14 - minE;
      for (let i = 0; i < n; i++) {
        C[i * n + i] += add;
        eigValues[i] += add;
      }
      maxE += add;
      minE += add;
    }
    for (let k = 0; k < n; k++) D[k] = Math.sqrt(eigValues[k]);
    for (let i = 0; i < n; i++) {
      let v = 0;
      for (let k = 0; k < n; k++) {
        const bd = B[i * n + k] * D[k];
        BD[i * n + k] = bd;
        v += bd * bd;
      }
      sampleVar[i] = v;
    }
    run.condition = maxE / minE;
  }

  /** CMA-ES with Margin: keep each integer coordinate able to leave its current level. */
  private applyMargin(run: Run): void {
    const alpha = run.margin;
    const { m, A, sampleVar } = run;
    const qEdge = normalQuantile(1 - alpha);
    for (const i of this.integerIdx) {
      const c = this.coords[i];
      const s0 = run.sigma * Math.sqrt(sampleVar[i]);
      if (!(s0 > 0) || !Number.isFinite(s0)) continue;
      const s = s0 * A[i];
      const mi = m[i];
      const k = levelIndex(c, mi);
      const lowThr = k > c.kMin ? c.anchor + (k - 0.5) * c.step : -Infinity;
      const upThr = k < c.kMax ? c.anchor + (k + 0.5) * c.step : Infinity;
      if (lowThr === -Infinity || upThr === Infinity) {
        // Extreme level: the only neighbour is across one threshold; move the mean so that P(cross) ≥ α.
        const thr = lowThr === -Infinity ? upThr : lowThr;
        if (!Number.isFinite(thr)) continue;
        const pCross = normalCdf(-Math.abs(thr - mi) / s);
        if (pCross < alpha) m[i] = thr > mi ? thr - s * qEdge : thr + s * qEdge;
        continue;
      }
      const pLow = normalCdf((lowThr - mi) / s);
      const pUp = normalCdf((mi - upThr) / s);
      const half = alpha / 2;
      if (pLow >= half && pUp >= half) continue;
      const pMid = 1 - pLow - pUp;
      const l = Math.max(pLow, half);
      const u = Math.max(pUp, half);
      const excess = 1 - l - u - pMid;
      const denom = l + pMid + u - 3 * half;
      let l2 = l + (excess * (l - half)) / denom;
      let u2 = u + (excess * (u - half)) / denom;
      l2 = Math.min(0.5 - 1e-10, Math.max(1e-10, l2));
      u2 = Math.min(0.5 - 1e-10, Math.max(1e-10, u2));
      const qL = normalQuantile(1 - l2);
      const qU = normalQuantile(1 - u2);
      A[i] = (upThr - lowThr) / ((qL + qU) * s0);
      m[i] = (lowThr * qU + upThr * qL) / (qL + qU);
    }
  }

  private checkStops(run: Run): string[] {
    const o = this.options;
    const { n, lambda, fit, order, m, C, pc, B, D } = run;
    const reasons: string[] = [];
    const sigma = run.sigma;
    const fBest = fit[order[0]];
    const fMedian = lambda % 2 ? fit[order[(lambda - 1) / 2]] : (fit[order[lambda / 2 - 1]] + fit[order[lambda / 2]]) / 2;

    // tolfun: the generation's f range and the recent best values' range.
    run.histBest.push(fBest);
    if (run.histBest.length > run.histCapacity) run.histBest.shift();
    const tolFun = o.tolFun ?? 1e-11;
    if (run.histBest.length >= run.histCapacity) {
      const genRange = fit[order[lambda - 1]] - fBest;
      let hMin = Infinity;
      let hMax = -Infinity;
      for (const v of run.histBest) {
        hMin = Math.min(hMin, v);
        hMax = Math.max(hMax, v);
      }
      if (genRange < tolFun && hMax - hMin < tolFun) reasons.push('tolfun');
    }

    // tolx.
    const tolX = o.tolX ?? 1e-11;
    let allSmall = true;
    for (let i = 0; i < n && allSmall; i++) {
      if (this.coords[i].kind === CoordKind.Fixed) continue;
      if (!(sigma * Math.max(Math.sqrt(C[i * n + i]), Math.abs(pc[i])) < tolX)) allSmall = false;
    }
    if (allSmall) reasons.push('tolx');

    if (run.condition > (o.tolConditionCov ?? 1e14)) reasons.push('conditioncov');

    // noeffectaxis: a 0.1-σ step along one principal axis (cycling) leaves the mean unchanged.
    const axis = run.generation % n;
    let noAxis = true;
    for (let i = 0; i < n && noAxis; i++) if (m[i] + 0.1 * sigma * D[axis] * B[i * n + axis] !== m[i]) noAxis = false;
    if (noAxis) reasons.push('noeffectaxis');
    for (let i = 0; i < n; i++) {
      if (this.coords[i].kind === CoordKind.Fixed) continue;
      if (m[i] + 0.2 * sigma * Math.sqrt(C[i * n + i]) === m[i]) {
        reasons.push('noeffectcoord');
        break;
      }
    }

    let maxD = 0;
    for (let k = 0; k < n; k++) maxD = Math.max(maxD, D[k]);
    if (sigma * maxD > (o.tolUpSigma ?? 1e20) * run.sigmaScale0) reasons.push('tolupsigma');

    // Stagnation (tutorial): over the last max(stagMin, 20% of the run) generations, the median
    // of the latest 30% of best and of median values is no better than that of the first 30%.
    run.stagBest.push(fBest);
    run.stagMedian.push(fMedian);
    if (run.stagBest.length > 20000) {
      run.stagBest.splice(0, run.stagBest.length - 20000);
      run.stagMedian.splice(0, run.stagMedian.length - 20000);
    }
    if (run.generation >= run.stagMin) {
      const len = run.stagBest.length;
      const window = Math.min(len, Math.max(Math.ceil(run.stagMin), Math.ceil(0.2 * run.generation)));
      const k = Math.max(1, Math.ceil(0.3 * window));
      const start = len - window;
      const stale = (h: number[]): boolean => medianOf(h, len - k, len) >= medianOf(h, start, start + k);
      if (stale(run.stagBest) && stale(run.stagMedian)) reasons.push('stagnation');
    }
    return reasons;
  }

  private restart(): void {
    const old = this.run;
    this.runLog.push({ lambda: old.lambda, generations: old.generation, evaluations: this.evaluations - this.runEvalStart, reasons: [...this.internalReasons] });
    this.runEvalStart = this.evaluations;
    this.restartsDone++;
    const lambda = Math.max(old.lambda + 1, Math.round(old.lambda * this.popsizeIncrease));
    const x0 = this.boxed ? this.uniformMean() : this.x0;
    this.run = new Run(this.dimension, lambda, this.active, x0, this.sigma0, this.scales, this.options);
    this.internalReasons = [];
  }
}

function medianOf(values: number[], from: number, to: number): number {
  const s = values.slice(from, to).sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const positiveInt = z.number().int().positive();
const finite = z.number().finite();

/** CmaEsOptions as a task config writes them (`agent: { name: cmaes, options: {...} }`). */
const schema = z.strictObject({
  x0: z.union([z.array(finite), z.literal('centre'), z.literal('uniform')]).optional(),
  sigma0: z.number().positive().finite().optional(),
  popsize: z.number().int().min(2).optional(),
  maxEvaluations: positiveInt.optional(),
  fTarget: finite.optional(),
  rewardTarget: finite.optional(),
  restarts: z.number().int().min(0).optional(),
  popsizeIncrease: z.number().min(1).finite().optional(),
  active: z.boolean().optional(),
  tolFun: z.number().nonnegative().finite().optional(),
  tolX: z.number().nonnegative().finite().optional(),
  tolConditionCov: z.number().positive().optional(),
  tolUpSigma: z.number().positive().optional(),
  tolStagnation: z.number().int().positive().optional(),
  margin: z.number().nonnegative().max(0.5).optional(),
});
/** Fails tsc when the schema and CmaEsOptions stop having the same keys. */
type SchemaMatchesOptions = Assert<SameKeys<z.infer<typeof schema>, CmaEsOptions>>;

/** The registry's `cmaes` (registry.ts). */
export const cmaes = defineAgent({
  name: 'cmaes',
  description: 'CMA-ES with active weights and IPOP restarts',
  schema,
  create: (bounds, seed, options) => new CmaEs(bounds, seed, options),
});
