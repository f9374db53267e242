import { erfc } from '../../rewards/normal.js';

/**
 * Small statistics for comparing agents: summaries over seeds and the
 * Mann–Whitney U test (two-sided) on final best rewards.
 *
 * Mann–Whitney: U₁ = R₁ − n₁(n₁+1)/2 with average ranks for ties, U₂ = n₁n₂ − U₁.
 * Without ties (and n₁, n₂ ≤ 50) the p-value is exact: p = min(1, 2·P(U ≥ max(U₁, U₂)))
 * under the null distribution of U (all C(n₁+n₂, n₁) orderings equally likely).
 * With ties (or larger samples) it is the normal approximation with the tie
 * correction of the variance, σ² = n₁n₂/12 · ((n+1) − Σ(t³ − t)/(n(n − 1))),
 * and a continuity correction of ½: z = (max(U₁, U₂) − n₁n₂/2 − ½)/σ, p = 2·(1 − Φ(z)).
 * These are scipy.stats.mannwhitneyu's 'exact' and 'asymptotic' (use_continuity) methods.
 */
export interface MannWhitneyResult {
  readonly n1: number;
  readonly n2: number;
  /** U of the first sample: the number of pairs (x, y) with x > y, ties counting ½. */
  readonly u1: number;
  readonly u2: number;
  /** Two-sided p-value (1 when either sample is empty or every value is tied). */
  readonly p: number;
  readonly method: 'exact' | 'normal';
  /** z of the normal approximation (null for the exact method). */
  readonly z: number | null;
  /** Whether the pooled sample had ties. */
  readonly ties: boolean;
  /** P(X > Y) + ½P(X = Y) estimated as U₁/(n₁n₂) (the common-language effect size); null for an empty sample. */
  readonly effect: number | null;
}

export interface MannWhitneyOptions {
  /** 'auto' (default): exact without ties when both samples have ≤ 50 values, else normal. */
  readonly method?: 'auto' | 'exact' | 'normal';
}

/** Ranks 1..n of the values, ties sharing the average of their ranks (scipy's rankdata 'average'). */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    const rank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) ranks[order[k][1]] = rank;
    i = j + 1;
  }
  return ranks;
}

/** Sizes of the groups of tied values (only groups of 2 or more). */
export function tieGroups(values: readonly number[]): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  const groups: number[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[i]) j++;
    if (j > i) groups.push(j - i + 1);
    i = j + 1;
  }
  return groups;
}

/**
 * P(U = u) for u = 0..n₁n₂ under the null hypothesis, no ties. Recurrence on
 * the largest value: it belongs to the first sample with probability n₁/(n₁+n₂)
 * and then adds n₂ to U, else to the second sample and adds nothing.
 */
export function mannWhitneyNullDistribution(n1: number, n2: number): Float64Array {
  // p[a][b] over u, built up for a ≤ n1, b ≤ n2; rows reuse one buffer per a.
  const size = n1 * n2 + 1;
  let previous: Float64Array[] = []; // a − 1
  for (let a = 0; a <= n1; a++) {
    const current: Float64Array[] = [];
    for (let b = 0; b <= n2; b++) {
      const p = new Float64Array(size);
      if (a === 0 || b === 0) p[0] = 1;
      else {
        const wa = a / (a + b);
        const wb = b / (a + b);
        const fromA = previous[b];
        const fromB = current[b - 1];
        for (let u = 0; u <= a * b; u++) p[u] = (u >= b ? wa * fromA[u - b] : 0) + wb * fromB[u];
      }
      current.push(p);
    }
    previous = current;
  }
  return previous[n2];
}

export function mannWhitneyU(x: readonly number[], y: readonly number[], options: MannWhitneyOptions = {}): MannWhitneyResult {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) return { n1, n2, u1: 0, u2: 0, p: 1, method: 'normal', z: null, ties: false, effect: null };
  for (const v of [...x, ...y]) {
    if (!Number.isFinite(v)) throw new RangeError(`Mann–Whitney: values must be finite (got ${v})`);
  }
  const pooled = [...x, ...y];
  const ranks = averageRanks(pooled);
  let r1 = 0;
  for (let i = 0; i < n1; i++) r1 += ranks[i];
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const u2 = n1 * n2 - u1;
  const groups = tieGroups(pooled);
  const ties = groups.length > 0;
  const effect = u1 / (n1 * n2);
  const method = options.method ?? 'auto';
  const exact = method === 'exact' || (method === 'auto' && !ties && n1 <= 50 && n2 <= 50);
  if (exact) {
    if (ties) throw new RangeError('Mann–Whitney: the exact method needs samples without ties');
    const dist = mannWhitneyNullDistribution(n1, n2);
    const u = Math.max(u1, u2);
    let tail = 0;
    for (let k = Math.round(u); k <= n1 * n2; k++) tail += dist[k];
    return { n1, n2, u1, u2, p: Math.min(1, 2 * tail), method: 'exact', z: null, ties, effect };
  }
  const n = n1 + n2;
  const tieTerm = groups.reduce((s, t) => s + (t * t * t - t), 0);
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (!(variance > 0)) return { n1, n2, u1, u2, p: 1, method: 'normal', z: 0, ties, effect };
  const z = (Math.max(u1, u2) - (n1 * n2) / 2 - 0.5) / Math.sqrt(variance);
  // Two-sided: 2·(1 − Φ(z)) = erfc(z/√2).
  const p = Math.min(1, erfc(z / Math.SQRT2));
  return { n1, n2, u1, u2, p, method: 'normal', z, ties, effect };
}

export interface Spread {
  readonly n: number;
  readonly mean: number | null;
  /** Sample standard deviation (n − 1); 0 for one value, null for none. */
  readonly std: number | null;
  readonly median: number | null;
  readonly min: number | null;
  readonly max: number | null;
}

/** Mean, sample standard deviation, median, min and max of the finite values. */
export function spread(values: readonly number[]): Spread {
  const v = values.filter((x) => Number.isFinite(x));
  const n = v.length;
  if (n === 0) return { n, mean: null, std: null, median: null, min: null, max: null };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { n, mean, std, median: quantile(v, 0.5), min: Math.min(...v), max: Math.max(...v) };
}

/** Linear-interpolation quantile (numpy's default) of the values, q ∈ [0, 1]. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const position = q * (sorted.length - 1);
  const lo = Math.floor(position);
  const hi = Math.ceil(position);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (position - lo);
}

/** Holm–Bonferroni adjusted p-values (same order as given). */
export function holm(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(([p, i], k) => {
    running = Math.max(running, Math.min(1, (m - k) * p));
    adjusted[i] = running;
  });
  return adjusted;
}
