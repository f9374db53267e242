import { normalCdf, normalPdf, normalQuantile } from './normal.js';

/**
 * Target size distributions and the distances between a sample and a target.
 *
 * Each target exposes its CDF F, quantile Q and partial first moment M(q) = E[X · 1{X ≤ q}];
 * with those, the Wasserstein-1 distance between the empirical distribution of a sample and the
 * target is exact (no binning): W1 = ∫₀¹ |Q_n(u) − Q(u)| du, split at u* = F(x_i) on each step
 * of the empirical quantile function.
 */
export interface Distribution {
  cdf(x: number): number;
  quantile(u: number): number;
  /** E[X · 1{X ≤ q}]. */
  partialMean(q: number): number;
  readonly mean: number;
}

export function normalDistribution(mean: number, sd: number): Distribution {
  return {
    mean,
    cdf: (x) => normalCdf((x - mean) / sd),
    quantile: (u) => mean + sd * normalQuantile(u),
    partialMean: (q) => {
      if (q === -Infinity) return 0;
      if (q === Infinity) return mean;
      const z = (q - mean) / sd;
      return mean * normalCdf(z) - sd * normalPdf(z);
    },
  };
}

/** Log-normal: ln X ~ N(ln median, sigma²). */
export function lognormalDistribution(median: number, sigma: number): Distribution {
  const mu = Math.log(median);
  const mean = Math.exp(mu + (sigma * sigma) / 2);
  return {
    mean,
    cdf: (x) => (x <= 0 ? 0 : normalCdf((Math.log(x) - mu) / sigma)),
    quantile: (u) => Math.exp(mu + sigma * normalQuantile(u)),
    partialMean: (q) => {
      if (q <= 0) return 0;
      if (q === Infinity) return mean;
      return mean * normalCdf((Math.log(q) - mu - sigma * sigma) / sigma);
    },
  };
}

/** Piecewise-uniform density: bin j spans [edges[j], edges[j + 1]) with probability ∝ weights[j]. */
export function histogramDistribution(edges: readonly number[], weights: readonly number[]): Distribution {
  const total = weights.reduce((a, b) => a + b, 0);
  const p = weights.map((w) => w / total);
  const cumulative = [0];
  for (const pj of p) cumulative.push(cumulative[cumulative.length - 1] + pj);
  const binMean = p.map((pj, j) => (pj * (edges[j] + edges[j + 1])) / 2);
  const mean = binMean.reduce((a, b) => a + b, 0);
  const bins = p.length;
  const binOf = (x: number): number => {
    let lo = 0, hi = bins - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (edges[mid] <= x) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  return {
    mean,
    cdf: (x) => {
      if (x <= edges[0]) return 0;
      if (x >= edges[bins]) return 1;
      const j = binOf(x);
      return cumulative[j] + (p[j] * (x - edges[j])) / (edges[j + 1] - edges[j]);
    },
    quantile: (u) => {
      if (u <= 0) return edges[0];
      if (u >= 1) return edges[bins];
      let j = 0;
      while (j < bins - 1 && cumulative[j + 1] < u) j++;
      if (p[j] === 0) return edges[j + 1];
      return edges[j] + ((u - cumulative[j]) / p[j]) * (edges[j + 1] - edges[j]);
    },
    partialMean: (q) => {
      if (q <= edges[0]) return 0;
      if (q >= edges[bins]) return mean;
      const j = binOf(q);
      let m = 0;
      for (let k = 0; k < j; k++) m += binMean[k];
      const fraction = (q - edges[j]) / (edges[j + 1] - edges[j]);
      return m + (p[j] * fraction * (edges[j] + q)) / 2;
    },
  };
}

/** Exact Wasserstein-1 distance between the sample's empirical distribution and the target. */
export function wasserstein1(sample: readonly number[], target: Distribution): number {
  const n = sample.length;
  if (n === 0) return Infinity;
  const x = [...sample].sort((a, b) => a - b);
  let previousM = 0; // M(Q(0))
  let distance = 0;
  for (let i = 0; i < n; i++) {
    const a = i / n;
    const b = (i + 1) / n;
    const qb = i === n - 1 ? Infinity : target.quantile(b);
    const mb = i === n - 1 ? target.mean : target.partialMean(qb);
    const xi = x[i];
    const F = target.cdf(xi);
    // Split [a, b] at u* where Q(u*) = x_i: below it x_i ≥ Q, above it x_i ≤ Q.
    let u: number, mu: number;
    if (F <= a) {
      u = a;
      mu = previousM;
    } else if (F >= b) {
      u = b;
      mu = mb;
    } else {
      u = F;
      mu = target.partialMean(xi);
    }
    distance += xi * (u - a) - (mu - previousM) + (mb - mu) - xi * (b - u);
    previousM = mb;
  }
  return Math.max(0, distance);
}

/** Kolmogorov–Smirnov statistic sup |F_n − F| (in [0, 1]). */
export function kolmogorovSmirnov(sample: readonly number[], target: Distribution): number {
  const n = sample.length;
  if (n === 0) return 1;
  const x = [...sample].sort((a, b) => a - b);
  let d = 0;
  for (let i = 0; i < n; i++) {
    const F = target.cdf(x[i]);
    d = Math.max(d, (i + 1) / n - F, F - i / n);
  }
  return Math.min(1, d);
}
