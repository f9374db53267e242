/**
 * Gaussian-process regression for the Bayesian-optimisation agent.
 *
 * Model: y = m + s·(f(u) + ε), u in the unit cube, f ~ GP(0, k), ε ~ N(0, σn²),
 * with m, s the mean and standard deviation of the observed y (outputs are
 * standardised, which plays the role of a constant mean) and the Matérn 5/2
 * ARD kernel
 *
 *   k(u, v) = σf² (1 + √5 r + 5r²/3) exp(−√5 r),   r² = Σₖ (uₖ − vₖ)² / ℓₖ².
 *
 * Hyperparameters θ = [ln ℓ₁ … ln ℓ_d, ln σf², ln σn²] are fitted by
 * maximising the log marginal likelihood (plus weak log-normal priors, which
 * keep fits on 5–10 points sane) with analytic gradients and a projected
 * L-BFGS from a few seeded starts. Linear algebra is a plain Cholesky on
 * Float64Array with jitter added only when the factorisation fails.
 */
import { SamstarError } from '../src/util/errors.js';
import type { Rng } from '../src/util/rng.js';
import { normalCdf, normalPdf } from './normal.js';

const SQRT5 = Math.sqrt(5);
const LOG_2PI = Math.log(2 * Math.PI);

/** Hyperparameter box (natural-log units) on the unit cube with standardised outputs. */
export const GP_THETA_BOUNDS = {
  logLengthscale: [Math.log(0.01), Math.log(50)] as const,
  logSignalVariance: [Math.log(0.01), Math.log(100)] as const,
  logNoiseVariance: [Math.log(1e-6), Math.log(2)] as const,
};

/** Weak log-normal priors (mean, sd of the log) used by the fit; see `logPrior`. */
export function priorFor(d: number): { lengthscale: [number, number]; signal: [number, number]; noise: [number, number] } {
  // Length-scales grow like √d with the dimension so that distances in the cube stay comparable.
  return { lengthscale: [Math.log(0.35 * Math.sqrt(d)), 1.0], signal: [0, 1.5], noise: [Math.log(1e-3), 3] };
}

export interface Factorisation {
  /** Lower Cholesky factor, row-major n×n. */
  readonly L: Float64Array;
  /** Jitter added to the diagonal (0 when none was needed). */
  readonly jitter: number;
}

/**
 * In-place lower Cholesky of a row-major symmetric n×n matrix (only the lower
 * triangle is read; the upper triangle is zeroed). Returns false on a
 * non-positive pivot.
 */
export function choleskyInPlace(A: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let s = A[rj + j];
    for (let k = 0; k < j; k++) s -= A[rj + k] * A[rj + k];
    if (!(s > 0)) return false;
    const ljj = Math.sqrt(s);
    A[rj + j] = ljj;
    const inv = 1 / ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let t = A[ri + j];
      for (let k = 0; k < j; k++) t -= A[ri + k] * A[rj + k];
      A[ri + j] = t * inv;
    }
    for (let k = j + 1; k < n; k++) A[rj + k] = 0;
  }
  return true;
}

/**
 * Cholesky of K with adaptive jitter: try as is, then add 1e-10·mean(diag),
 * ×10 each time, up to 1e-2·mean(diag). Returns undefined when even that fails.
 */
export function choleskyWithJitter(K: Float64Array, n: number): Factorisation | undefined {
  const A = new Float64Array(K);
  if (choleskyInPlace(A, n)) return { L: A, jitter: 0 };
  let meanDiag = 0;
  for (let i = 0; i < n; i++) meanDiag += K[i * n + i];
  meanDiag = Math.max(meanDiag / Math.max(1, n), 1e-300);
  for (let jitter = 1e-10 * meanDiag; jitter <= 1e-2 * meanDiag * 1.0001; jitter *= 10) {
    A.set(K);
    for (let i = 0; i < n; i++) A[i * n + i] += jitter;
    if (choleskyInPlace(A, n)) return { L: A, jitter };
  }
  return undefined;
}

/** Solve L z = b (forward substitution) into out. */
export function forwardSolve(L: Float64Array, n: number, b: ArrayLike<number>, out: Float64Array = new Float64Array(n)): Float64Array {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[ri + k] * out[k];
    out[i] = s / L[ri + i];
  }
  return out;
}

/** Solve Lᵀ z = b (back substitution) into out. */
export function backSolve(L: Float64Array, n: number, b: ArrayLike<number>, out: Float64Array = new Float64Array(n)): Float64Array {
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * out[k];
    out[i] = s / L[i * n + i];
  }
  return out;
}

/** Matérn 5/2 correlation at distance r (unit signal variance). */
export function matern52(r: number): number {
  return (1 + SQRT5 * r + (5 / 3) * r * r) * Math.exp(-SQRT5 * r);
}

/** Row-major flat copy of points (n×d). */
export function flatten(points: readonly (ArrayLike<number>)[], d: number): Float64Array {
  const out = new Float64Array(points.length * d);
  points.forEach((p, i) => {
    for (let k = 0; k < d; k++) out[i * d + k] = p[k];
  });
  return out;
}

export interface LmlResult {
  /** Log marginal likelihood ln p(y | X, θ). */
  readonly value: number;
  /** Gradient with respect to θ (present when asked for). */
  readonly grad?: Float64Array;
}

/**
 * Log marginal likelihood of standardised outputs y at unit-cube inputs X
 * (flat n×d) under θ, and optionally its analytic gradient:
 *   ln p = −½ yᵀK⁻¹y − Σ ln Lᵢᵢ − (n/2) ln 2π,
 *   ∂ ln p/∂θⱼ = ½ tr((ααᵀ − K⁻¹) ∂K/∂θⱼ),  α = K⁻¹y.
 * Returns −Infinity when K cannot be factorised.
 */
export function logMarginalLikelihood(X: Float64Array, y: ArrayLike<number>, d: number, theta: ArrayLike<number>, wantGrad = false): LmlResult {
  const n = y.length;
  const invL2 = new Float64Array(d);
  for (let k = 0; k < d; k++) invL2[k] = Math.exp(-2 * theta[k]);
  const sf2 = Math.exp(theta[d]);
  const sn2 = Math.exp(theta[d + 1]);
  const K = new Float64Array(n * n);
  // C[a,b] (a > b) = σf²·(5/3)(1 + √5 r)e^{−√5 r}: ∂k/∂ln ℓₖ = C·(uₖ − vₖ)²/ℓₖ² (no singularity at r = 0).
  const C = wantGrad ? new Float64Array(n * n) : undefined;
  for (let a = 0; a < n; a++) {
    const ra = a * d;
    for (let b = 0; b < a; b++) {
      const rb = b * d;
      let r2 = 0;
      for (let k = 0; k < d; k++) {
        const t = X[ra + k] - X[rb + k];
        r2 += t * t * invL2[k];
      }
      const r = Math.sqrt(r2);
      const e = Math.exp(-SQRT5 * r);
      const kab = sf2 * (1 + SQRT5 * r + (5 / 3) * r2) * e;
      K[a * n + b] = kab;
      K[b * n + a] = kab;
      if (C) C[a * n + b] = sf2 * (5 / 3) * (1 + SQRT5 * r) * e;
    }
    K[a * n + a] = sf2 + sn2;
  }
  const fac = choleskyWithJitter(K, n);
  if (!fac) return { value: -Infinity, grad: wantGrad ? new Float64Array(d + 2) : undefined };
  const { L } = fac;
  const z = forwardSolve(L, n, y);
  const alpha = backSolve(L, n, z);
  let quad = 0;
  let logDet = 0;
  for (let i = 0; i < n; i++) {
    quad += y[i] * alpha[i];
    logDet += Math.log(L[i * n + i]);
  }
  const value = -0.5 * quad - logDet - 0.5 * n * LOG_2PI;
  if (!wantGrad || !C) return { value };

  const Kinv = inverseFromCholesky(L, n);
  const grad = new Float64Array(d + 2);
  let gSignal = 0;
  let gNoise = 0;
  for (let a = 0; a < n; a++) {
    const ra = a * d;
    // Diagonal: ∂K/∂ln σf² = σf², ∂K/∂ln σn² = σn², length-scale derivatives vanish at r = 0.
    const waa = alpha[a] * alpha[a] - Kinv[a * n + a];
    gSignal += 0.5 * waa * sf2;
    gNoise += 0.5 * waa * sn2;
    for (let b = 0; b < a; b++) {
      const w = alpha[a] * alpha[b] - Kinv[a * n + b]; // symmetric pair counted twice → factor ½ cancels
      gSignal += w * K[a * n + b];
      const c = w * C[a * n + b];
      const rb = b * d;
      for (let k = 0; k < d; k++) {
        const t = X[ra + k] - X[rb + k];
        grad[k] += c * t * t * invL2[k];
      }
    }
  }
  grad[d] = gSignal;
  grad[d + 1] = gNoise;
  return { value, grad };
}

/** K⁻¹ = L⁻ᵀ L⁻¹ from the lower Cholesky factor (full symmetric matrix, row-major). Row-oriented loops for cache locality. */
export function inverseFromCholesky(L: Float64Array, n: number): Float64Array {
  // M = L⁻¹ (lower triangular), row by row: M[i,:] = (eᵢ − Σ_{k<i} L[i,k] M[k,:]) / L[i,i].
  const M = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let k = 0; k < i; k++) {
      const lik = L[ri + k];
      if (lik === 0) continue;
      const rk = k * n;
      for (let j = 0; j <= k; j++) M[ri + j] -= lik * M[rk + j];
    }
    M[ri + i] += 1;
    const inv = 1 / L[ri + i];
    for (let j = 0; j <= i; j++) M[ri + j] *= inv;
  }
  // K⁻¹ = MᵀM = Σ_k (row k of M)ᵀ(row k of M): lower triangle by rank-one updates, then mirrored.
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const rk = k * n;
    for (let a = 0; a <= k; a++) {
      const mka = M[rk + a];
      if (mka === 0) continue;
      const ra = a * n;
      for (let b = 0; b <= a; b++) out[ra + b] += mka * M[rk + b];
    }
  }
  for (let a = 0; a < n; a++) for (let b = 0; b < a; b++) out[b * n + a] = out[a * n + b];
  return out;
}

/** Log density (up to a constant) of the weak log-normal priors on θ, and its gradient. */
export function logPrior(theta: ArrayLike<number>, d: number): { value: number; grad: Float64Array } {
  const p = priorFor(d);
  const grad = new Float64Array(d + 2);
  let value = 0;
  const term = (i: number, [mu, sd]: [number, number]): void => {
    const z = (theta[i] - mu) / sd;
    value -= 0.5 * z * z;
    grad[i] = -z / sd;
  };
  for (let k = 0; k < d; k++) term(k, p.lengthscale);
  term(d, p.signal);
  term(d + 1, p.noise);
  return { value, grad };
}

/** Lower and upper bounds of θ for dimension d. */
export function thetaBounds(d: number): { lower: Float64Array; upper: Float64Array } {
  const lower = new Float64Array(d + 2);
  const upper = new Float64Array(d + 2);
  for (let k = 0; k < d; k++) {
    lower[k] = GP_THETA_BOUNDS.logLengthscale[0];
    upper[k] = GP_THETA_BOUNDS.logLengthscale[1];
  }
  lower[d] = GP_THETA_BOUNDS.logSignalVariance[0];
  upper[d] = GP_THETA_BOUNDS.logSignalVariance[1];
  lower[d + 1] = GP_THETA_BOUNDS.logNoiseVariance[0];
  upper[d + 1] = GP_THETA_BOUNDS.logNoiseVariance[1];
  return { lower, upper };
}

/** The default starting θ: prior means, except a small noise. */
export function defaultTheta(d: number): Float64Array {
  const p = priorFor(d);
  const theta = new Float64Array(d + 2);
  for (let k = 0; k < d; k++) theta[k] = p.lengthscale[0];
  theta[d] = 0;
  theta[d + 1] = Math.log(1e-3);
  return theta;
}

export interface LbfgsOptions {
  readonly lower: Float64Array;
  readonly upper: Float64Array;
  readonly maxIterations?: number;
  readonly memory?: number;
  /** Stop when the projected gradient's largest entry is below this times max(1, |f|) (default 1e-5). */
  readonly gradTolerance?: number;
}

/**
 * Minimise f over a box with a projected L-BFGS (two-loop recursion, Armijo
 * backtracking on the projected path). `f(x, grad)` returns the value and
 * writes the gradient; non-finite values count as +∞. Returns the best point.
 */
export function minimiseLbfgs(
  f: (x: Float64Array, grad: Float64Array) => number,
  x0: ArrayLike<number>,
  options: LbfgsOptions,
): { x: Float64Array; value: number; iterations: number; evaluations: number } {
  const n = x0.length;
  const { lower, upper } = options;
  const maxIterations = options.maxIterations ?? 60;
  const memory = options.memory ?? 6;
  const gTol = options.gradTolerance ?? 1e-5;
  const project = (v: Float64Array): Float64Array => {
    for (let i = 0; i < n; i++) v[i] = Math.min(upper[i], Math.max(lower[i], v[i]));
    return v;
  };
  let x = project(Float64Array.from(x0));
  let g = new Float64Array(n);
  let evaluations = 1;
  let fx = f(x, g);
  if (!Number.isFinite(fx)) return { x, value: Infinity, iterations: 0, evaluations };
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const dir = new Float64Array(n);
  const alphaBuf = new Array<number>(memory);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    // Projected-gradient test: components pushing against an active bound do not count.
    let pg = 0;
    for (let i = 0; i < n; i++) {
      let gi = g[i];
      if ((x[i] <= lower[i] && gi > 0) || (x[i] >= upper[i] && gi < 0)) gi = 0;
      pg = Math.max(pg, Math.abs(gi));
    }
    if (pg < gTol * Math.max(1, Math.abs(fx))) break;
    // Two-loop recursion: dir = −H g.
    for (let i = 0; i < n; i++) dir[i] = -g[i];
    for (let j = S.length - 1; j >= 0; j--) {
      const a = rho[j] * dot(S[j], dir);
      alphaBuf[j] = a;
      axpy(-a, Y[j], dir);
    }
    if (S.length > 0) {
      const last = S.length - 1;
      const gamma = dot(S[last], Y[last]) / dot(Y[last], Y[last]);
      for (let i = 0; i < n; i++) dir[i] *= gamma;
    } else {
      // First step: move at most ~1 unit in θ.
      let m = 0;
      for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(dir[i]));
      if (m > 1) for (let i = 0; i < n; i++) dir[i] /= m;
    }
    for (let j = 0; j < S.length; j++) {
      const b = rho[j] * dot(Y[j], dir);
      axpy(alphaBuf[j] - b, S[j], dir);
    }
    if (dot(dir, g) >= 0) {
      // Not a descent direction (curvature memory gone stale): restart with steepest descent.
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      for (let i = 0; i < n; i++) dir[i] = -g[i];
    }
    let step = 1;
    let accepted = false;
    let xNew = new Float64Array(n);
    let gNew = new Float64Array(n);
    let fNew = Infinity;
    for (let tries = 0; tries < 30; tries++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i] + step * dir[i];
      project(xNew);
      let decrease = 0;
      for (let i = 0; i < n; i++) decrease += g[i] * (xNew[i] - x[i]);
      if (decrease >= 0) {
        step *= 0.5;
        continue;
      }
      evaluations++;
      fNew = f(xNew, gNew);
      if (Number.isFinite(fNew) && fNew <= fx + 1e-4 * decrease) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) break;
    const s = new Float64Array(n);
    const yv = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i] - x[i];
      yv[i] = gNew[i] - g[i];
    }
    const sy = dot(s, yv);
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(yv, yv))) {
      if (S.length === memory) {
        S.shift();
        Y.shift();
        rho.shift();
      }
      S.push(s);
      Y.push(yv);
      rho.push(1 / sy);
    }
    const change = fx - fNew;
    x = xNew;
    g = gNew;
    fx = fNew;
    xNew = new Float64Array(n);
    gNew = new Float64Array(n);
    if (change < 1e-10 * Math.max(1, Math.abs(fx))) {
      iterations++;
      break;
    }
  }
  return { x, value: fx, iterations, evaluations };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] += a * x[i];
}

export interface GpFitOptions {
  readonly rng: Rng;
  /** Starting points of the optimiser besides the warm start and the default (drawn from the priors). */
  readonly randomStarts?: number;
  /** θ of the previous fit, tried first. */
  readonly warmStart?: ArrayLike<number>;
  /** Also start from the default θ when there is a warm start (default true). */
  readonly defaultStart?: boolean;
  readonly maxIterations?: number;
  /** Include the log-normal priors (default true). */
  readonly priors?: boolean;
}

/**
 * Fit θ by maximising ln p(y|θ) + ln prior(θ) from the warm start (if any),
 * the default θ (unless `defaultStart` is false and there is a warm start) and
 * `randomStarts` draws from the priors. Returns the best θ.
 */
export function fitHyperparameters(X: Float64Array, y: ArrayLike<number>, d: number, options: GpFitOptions): Float64Array {
  const { lower, upper } = thetaBounds(d);
  const usePriors = options.priors ?? true;
  const objective = (theta: Float64Array, grad: Float64Array): number => {
    const lml = logMarginalLikelihood(X, y, d, theta, true);
    if (!Number.isFinite(lml.value) || !lml.grad) return Infinity;
    let value = -lml.value;
    for (let i = 0; i < d + 2; i++) grad[i] = -lml.grad[i];
    if (usePriors) {
      const p = logPrior(theta, d);
      value -= p.value;
      for (let i = 0; i < d + 2; i++) grad[i] -= p.grad[i];
    }
    return value;
  };
  const starts: Float64Array[] = [];
  if (options.warmStart) starts.push(Float64Array.from(options.warmStart));
  if (!options.warmStart || (options.defaultStart ?? true)) starts.push(defaultTheta(d));
  const p = priorFor(d);
  for (let s = 0; s < (options.randomStarts ?? 2); s++) {
    const t = new Float64Array(d + 2);
    for (let k = 0; k < d; k++) t[k] = p.lengthscale[0] + p.lengthscale[1] * options.rng.normal();
    t[d] = p.signal[0] + 0.5 * p.signal[1] * options.rng.normal();
    t[d + 1] = Math.log(1e-3) + 1.5 * options.rng.normal();
    starts.push(t);
  }
  let best: Float64Array | undefined;
  let bestValue = Infinity;
  for (const start of starts) {
    const r = minimiseLbfgs(objective, start, { lower, upper, maxIterations: options.maxIterations ?? 60 });
    if (r.value < bestValue) {
      bestValue = r.value;
      best = r.x;
    }
  }
  return best ?? defaultTheta(d);
}

export interface GpPrediction {
  /** Posterior mean of f (in the units of y). */
  readonly mean: number;
  /** Posterior variance of the latent f (units of y²), ≥ 0; add `noiseVariance` for a new observation. */
  readonly variance: number;
}

export interface GpStandardisation {
  readonly mean: number;
  readonly scale: number;
}

/**
 * A GP conditioned on data with fixed hyperparameters. Inputs are unit-cube
 * points; outputs are standardised internally (mean/scale of y unless given).
 */
export class GaussianProcess {
  readonly n: number;
  readonly d: number;
  readonly theta: Float64Array;
  readonly standardisation: GpStandardisation;
  /** Jitter that the Cholesky needed on top of the noise. */
  readonly jitter: number;
  private readonly X: Float64Array;
  private readonly ys: Float64Array;
  private readonly L: Float64Array;
  private readonly alpha: Float64Array;
  private readonly invL2: Float64Array;
  private readonly sf2: number;
  private readonly sn2: number;
  private readonly kbuf: Float64Array;
  private readonly vbuf: Float64Array;

  constructor(points: readonly ArrayLike<number>[], y: readonly number[], theta: ArrayLike<number>, standardisation?: GpStandardisation) {
    const n = points.length;
    if (n === 0 || y.length !== n) throw new SamstarError('ARGUMENT_INVALID', `GaussianProcess: ${n} points and ${y.length} outputs`);
    const d = points[0].length;
    this.n = n;
    this.d = d;
    this.theta = Float64Array.from(theta);
    this.standardisation = standardisation ?? standardise(y);
    const { mean, scale } = this.standardisation;
    this.X = flatten(points, d);
    this.ys = Float64Array.from(y, (v) => (v - mean) / scale);
    this.invL2 = new Float64Array(d);
    for (let k = 0; k < d; k++) this.invL2[k] = Math.exp(-2 * theta[k]);
    this.sf2 = Math.exp(theta[d]);
    this.sn2 = Math.exp(theta[d + 1]);
    const K = new Float64Array(n * n);
    for (let a = 0; a < n; a++) {
      for (let b = 0; b < a; b++) {
        const v = this.sf2 * matern52(this.distance(this.X, a * d, b * d));
        K[a * n + b] = v;
        K[b * n + a] = v;
      }
      K[a * n + a] = this.sf2 + this.sn2;
    }
    let fac = choleskyWithJitter(K, n);
    if (!fac) {
      // Last resort: a large nugget (only reachable with duplicated points and a tiny noise).
      for (let a = 0; a < n; a++) K[a * n + a] += 0.1 * this.sf2;
      fac = choleskyWithJitter(K, n);
      if (!fac) throw new SamstarError('ARGUMENT_INVALID', 'GaussianProcess: covariance matrix is not positive definite (non-finite inputs?)');
      this.jitter = 0.1 * this.sf2 + fac.jitter;
    } else {
      this.jitter = fac.jitter;
    }
    this.L = fac.L;
    this.alpha = backSolve(this.L, n, forwardSolve(this.L, n, this.ys));
    this.kbuf = new Float64Array(n);
    this.vbuf = new Float64Array(n);
  }

  /** Fit θ (see `fitHyperparameters`) and condition on the data. */
  static fit(points: readonly ArrayLike<number>[], y: readonly number[], options: GpFitOptions): GaussianProcess {
    const st = standardise(y);
    const d = points[0].length;
    const ys = Float64Array.from(y, (v) => (v - st.mean) / st.scale);
    const theta = fitHyperparameters(flatten(points, d), ys, d, options);
    return new GaussianProcess(points, y, theta, st);
  }

  /** Noise variance in the units of y². */
  get noiseVariance(): number {
    return this.sn2 * this.standardisation.scale ** 2;
  }

  /** Signal variance in the units of y². */
  get signalVariance(): number {
    return this.sf2 * this.standardisation.scale ** 2;
  }

  /** Length-scales in unit-cube units. */
  get lengthscales(): number[] {
    return Array.from(this.theta.subarray(0, this.d), Math.exp);
  }

  /** Posterior of the latent f at a unit-cube point. */
  predict(u: ArrayLike<number>): GpPrediction {
    const s = this.predictStandardised(u);
    const { mean, scale } = this.standardisation;
    return { mean: mean + scale * s.mean, variance: scale * scale * s.sd * s.sd };
  }

  /** Posterior mean and standard deviation of f in standardised units (what EI works in). */
  predictStandardised(u: ArrayLike<number>): { mean: number; sd: number } {
    const { n, d, X, invL2, sf2, kbuf, vbuf, L } = this;
    let mean = 0;
    for (let a = 0; a < n; a++) {
      const ra = a * d;
      let r2 = 0;
      for (let k = 0; k < d; k++) {
        const t = u[k] - X[ra + k];
        r2 += t * t * invL2[k];
      }
      const r = Math.sqrt(r2);
      const kv = sf2 * (1 + SQRT5 * r + (5 / 3) * r2) * Math.exp(-SQRT5 * r);
      kbuf[a] = kv;
      mean += kv * this.alpha[a];
    }
    let vv = 0;
    for (let i = 0; i < n; i++) {
      const ri = i * n;
      let s = kbuf[i];
      for (let k = 0; k < i; k++) s -= L[ri + k] * vbuf[k];
      const v = s / L[ri + i];
      vbuf[i] = v;
      vv += v * v;
    }
    return { mean, sd: Math.sqrt(Math.max(0, sf2 - vv)) };
  }

  /**
   * Posterior means of f at the training inputs (standardised units), in O(n):
   * K_f α = (K − (σn² + jitter) I) α = y − (σn² + jitter) α.
   */
  trainingMeansStandardised(): Float64Array {
    const nugget = this.sn2 + this.jitter;
    return Float64Array.from(this.ys, (v, i) => v - nugget * this.alpha[i]);
  }

  /** Log marginal likelihood of the (standardised) data under this GP's θ. */
  logMarginalLikelihood(): number {
    return logMarginalLikelihood(this.X, this.ys, this.d, this.theta).value;
  }

  /** Standardised training outputs (copy). */
  trainingOutputs(): Float64Array {
    return Float64Array.from(this.ys);
  }

  /** Training input a (unit cube, copy). */
  trainingInput(a: number): Float64Array {
    return this.X.slice(a * this.d, (a + 1) * this.d);
  }

  private distance(X: Float64Array, ra: number, rb: number): number {
    let r2 = 0;
    for (let k = 0; k < this.d; k++) {
      const t = X[ra + k] - X[rb + k];
      r2 += t * t * this.invL2[k];
    }
    return Math.sqrt(r2);
  }
}

/** Mean and standard deviation of y (scale 1 when y is constant). */
export function standardise(y: readonly number[]): GpStandardisation {
  const n = y.length;
  let mean = 0;
  for (const v of y) mean += v;
  mean /= n;
  let ss = 0;
  for (const v of y) ss += (v - mean) ** 2;
  const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
  return { mean, scale: sd > 1e-12 * Math.max(1, Math.abs(mean)) ? sd : 1 };
}

/**
 * Expected improvement for MAXIMISATION over the incumbent `best` with margin xi:
 *   EI = (μ − best − ξ) Φ(z) + σ φ(z),  z = (μ − best − ξ)/σ;
 * with σ = 0 it is max(μ − best − ξ, 0). Computed as σ·h(z), h(z) = zΦ(z) + φ(z),
 * with Mills' ratio (continued fraction) for z < −6 so it stays accurate and
 * positive far below the incumbent.
 */
export function expectedImprovement(mean: number, sd: number, best: number, xi = 0): number {
  const imp = mean - best - xi;
  if (!(sd > 0)) return Math.max(imp, 0);
  const z = imp / sd;
  // Above the incumbent use h(z) = z + h(−z): EI = imp + σ·h(−z), which is monotone in σ to the last bit.
  if (z > 0) return imp + sd * hNegative(-z);
  return sd * hNegative(z);
}

/** h(z) = zΦ(z) + φ(z) for z ≤ 0. */
function hNegative(z: number): number {
  let h: number;
  if (z < -6) {
    // h(−x) = φ(x)(1 − x·R(x)) with Mills' ratio R(x) = Φ(−x)/φ(x) from its continued fraction.
    const x = -z;
    let cf = x;
    for (let k = 60; k >= 1; k--) cf = x + k / cf;
    h = normalPdf(x) * (1 - x / cf);
  } else {
    h = z * normalCdf(z) + normalPdf(z);
  }
  return Math.max(0, h);
}
