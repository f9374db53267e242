/**
 * A Pareto archive for vector rewards, usable with any agent: the runner adds
 * every evaluation (point, objective vector, optional metadata) and reads the
 * non-dominated front at the end. All objectives are MAXIMISED; negate an
 * objective (e.g. an overlap penalty) before adding it.
 *
 * Dominance: a dominates b when a ≥ b in every objective and a > b in at
 * least one. Entries with equal objective vectors do not dominate each other,
 * so both stay on the front. Entries with a non-finite objective (failed
 * evaluations) are archived but never on the front.
 *
 * The front is maintained incrementally: an add compares the new vector with
 * the current front only (O(front · objectives)), so thousands of
 * evaluations with a few objectives cost milliseconds.
 *
 * Front order (deterministic): first objective descending, then the second
 * descending, …, then insertion index ascending.
 *
 * Picking by weights (`pick`): every objective is rescaled to [0, 1] over the
 * CURRENT FRONT, n_i = (f_i − min_front f_i)/(max_front f_i − min_front f_i)
 * (0 when the front has a single value of f_i), and the entry maximising
 * Σ w_i n_i / Σ w_i wins; ties go to the earlier entry in front order.
 * Weights are ≥ 0 with a positive sum; only their ratios matter. Rescaling to
 * the front makes the weights mean "how much of the achievable range of each
 * objective", independent of the objectives' units.
 *
 * The knee (`knee`): with the same rescaling, the extremes of the front are the
 * entries that maximise each objective (the first in front order on ties). The
 * knee is the entry farthest beyond the hyperplane through the extremes, on the
 * side of the ideal point (1, …, 1): the best-balanced trade-off, where giving
 * up a little of one objective costs much of another. With two objectives the
 * extremes are (1, 0) and (0, 1), the hyperplane is n₁ + n₂ = 1, and the knee is
 * the pick with equal weights. When the extremes do not span a hyperplane with
 * a normal facing the ideal (coincident extremes, more objectives than distinct
 * extremes), the hyperplane Σ nᵢ = 1 is used. Ties go to the earlier entry.
 */
import { SamstarError } from '../src/util/errors.js';

export interface ParetoEntry<M = unknown> {
  /** Insertion index (0-based) in the archive. */
  readonly index: number;
  readonly x: readonly number[];
  readonly objectives: readonly number[];
  readonly meta?: M;
}

export interface ParetoArchiveOptions {
  /** Column names of the objectives (default f0, f1, …). */
  readonly objectiveNames?: readonly string[];
  /** Column names of the point's coordinates (default x0, x1, …). */
  readonly dimensionNames?: readonly string[];
}

export interface ParetoJson<M = unknown> {
  readonly objectives: string[];
  readonly dimensions: string[];
  /** Everything archived (including failed evaluations). */
  readonly evaluations: number;
  readonly front: { index: number; x: number[]; objectives: number[]; meta?: M }[];
}

export class ParetoArchive<M = unknown> {
  private readonly entries: ParetoEntry<M>[] = [];
  /** Indices of the front, unordered. */
  private frontIdx: number[] = [];
  private sortedFront: ParetoEntry<M>[] | undefined;
  private objectiveCount: number | undefined;
  private dimension: number | undefined;
  private readonly objectiveNames?: readonly string[];
  private readonly dimensionNames?: readonly string[];

  constructor(options: ParetoArchiveOptions = {}) {
    this.objectiveNames = options.objectiveNames;
    this.dimensionNames = options.dimensionNames;
    if (options.objectiveNames) this.objectiveCount = options.objectiveNames.length;
    if (options.dimensionNames) this.dimension = options.dimensionNames.length;
  }

  /** Number of archived evaluations (front or not). */
  get size(): number {
    return this.entries.length;
  }

  /** Archive one evaluation; true when it is on the front afterwards. */
  add(x: readonly number[], objectives: readonly number[], meta?: M): boolean {
    if (this.objectiveCount === undefined) {
      if (objectives.length === 0) throw new SamstarError('ARGUMENT_INVALID', 'pareto: an objective vector needs at least one entry');
      this.objectiveCount = objectives.length;
    }
    if (objectives.length !== this.objectiveCount) {
      throw new SamstarError('ARGUMENT_INVALID', `pareto: ${objectives.length} objectives given, the archive has ${this.objectiveCount}`);
    }
    this.dimension ??= x.length;
    if (x.length !== this.dimension) {
      throw new SamstarError('ARGUMENT_INVALID', `pareto: point has ${x.length} coordinates, the archive's points have ${this.dimension}`);
    }
    const entry: ParetoEntry<M> = { index: this.entries.length, x: [...x], objectives: [...objectives], ...(meta === undefined ? {} : { meta }) };
    this.entries.push(entry);
    if (!objectives.every(Number.isFinite)) return false;
    for (const i of this.frontIdx) if (dominates(this.entries[i].objectives, objectives)) return false;
    this.frontIdx = this.frontIdx.filter((i) => !dominates(objectives, this.entries[i].objectives));
    this.frontIdx.push(entry.index);
    this.sortedFront = undefined;
    return true;
  }

  /** Every archived entry, in insertion order. */
  all(): ParetoEntry<M>[] {
    return [...this.entries];
  }

  /** The non-dominated entries, first objective descending, then the next, …, then insertion index. */
  front(): ParetoEntry<M>[] {
    if (!this.sortedFront) {
      this.sortedFront = this.frontIdx
        .map((i) => this.entries[i])
        .sort((a, b) => {
          for (let k = 0; k < a.objectives.length; k++) {
            const diff = b.objectives[k] - a.objectives[k];
            if (diff !== 0) return diff;
          }
          return a.index - b.index;
        });
    }
    return [...this.sortedFront];
  }

  /**
   * The front entry maximising the weighted sum of objectives rescaled to the
   * front's range (see the file comment); undefined on an empty front.
   */
  pick(weights: readonly number[]): (ParetoEntry<M> & { readonly score: number }) | undefined {
    const m = this.objectiveCount;
    if (m !== undefined && weights.length !== m) {
      throw new SamstarError('ARGUMENT_INVALID', `pareto.pick: ${weights.length} weights for ${m} objectives`);
    }
    let sum = 0;
    for (const w of weights) {
      if (!(Number.isFinite(w) && w >= 0)) {
        throw new SamstarError('ARGUMENT_INVALID', `pareto.pick: weight ${w} is not a finite number ≥ 0`, {
          hint: 'objectives are maximised; negate an objective when adding it rather than giving it a negative weight',
        });
      }
      sum += w;
    }
    if (!(sum > 0)) throw new SamstarError('ARGUMENT_INVALID', 'pareto.pick: the weights sum to 0');
    const front = this.front();
    if (front.length === 0) return undefined;
    const k = weights.length;
    const lo = new Array<number>(k).fill(Infinity);
    const hi = new Array<number>(k).fill(-Infinity);
    for (const e of front) {
      for (let i = 0; i < k; i++) {
        lo[i] = Math.min(lo[i], e.objectives[i]);
        hi[i] = Math.max(hi[i], e.objectives[i]);
      }
    }
    let best = front[0];
    let bestScore = -Infinity;
    for (const e of front) {
      let s = 0;
      for (let i = 0; i < k; i++) if (hi[i] > lo[i]) s += (weights[i] * (e.objectives[i] - lo[i])) / (hi[i] - lo[i]);
      s /= sum;
      if (s > bestScore) {
        bestScore = s;
        best = e;
      }
    }
    return { ...best, score: bestScore };
  }

  /** The knee of the front (see the file comment); undefined on an empty front. */
  knee(): (ParetoEntry<M> & { readonly score: number }) | undefined {
    const front = this.front();
    if (front.length === 0) return undefined;
    const normalised = normaliseToFront(front.map((e) => e.objectives));
    const m = normalised[0].length;
    const extremes = Array.from({ length: m }, (_, k) => {
      let best = 0;
      for (let i = 1; i < normalised.length; i++) if (normalised[i][k] > normalised[best][k]) best = i;
      return normalised[best];
    });
    let normal = solveLinear(extremes, new Array<number>(m).fill(1));
    if (!normal || normal.some((a) => !(Number.isFinite(a) && a > 0))) normal = new Array<number>(m).fill(1);
    const length = Math.hypot(...normal);
    let best = 0;
    let bestScore = -Infinity;
    normalised.forEach((n, i) => {
      const score = (n.reduce((a, v, k) => a + normal![k] * v, 0) - 1) / length;
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    });
    return { ...front[best], score: bestScore };
  }

  /** The front (in front order) with column names, for writing `pareto.json`. */
  toJSON(): ParetoJson<M> {
    return {
      objectives: this.objectiveColumns(),
      dimensions: this.dimensionColumns(),
      evaluations: this.entries.length,
      front: this.front().map((e) => ({
        index: e.index,
        x: [...e.x],
        objectives: [...e.objectives],
        ...(e.meta === undefined ? {} : { meta: e.meta }),
      })),
    };
  }

  /**
   * The front as CSV (RFC 4180 quoting): `index`, the coordinates, the
   * objectives, and a `meta` column (JSON) when any front entry has metadata.
   */
  toCsv(): string {
    const front = this.front();
    const withMeta = front.some((e) => e.meta !== undefined);
    const header = ['index', ...this.dimensionColumns(), ...this.objectiveColumns(), ...(withMeta ? ['meta'] : [])];
    const lines = [header.map(csvField).join(',')];
    for (const e of front) {
      const row = [String(e.index), ...e.x.map(String), ...e.objectives.map(String)];
      if (withMeta) row.push(e.meta === undefined ? '' : JSON.stringify(e.meta));
      lines.push(row.map(csvField).join(','));
    }
    return lines.join('\n') + '\n';
  }

  private objectiveColumns(): string[] {
    return this.objectiveNames ? [...this.objectiveNames] : Array.from({ length: this.objectiveCount ?? 0 }, (_, i) => `f${i}`);
  }

  private dimensionColumns(): string[] {
    return this.dimensionNames ? [...this.dimensionNames] : Array.from({ length: this.dimension ?? 0 }, (_, i) => `x${i}`);
  }
}

/** a dominates b (maximisation): a ≥ b everywhere and a > b somewhere. */
export function dominates(a: readonly number[], b: readonly number[]): boolean {
  let strictly = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] < b[i]) return false;
    if (a[i] > b[i]) strictly = true;
  }
  return strictly;
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Each column rescaled to [0, 1] over the rows (0 where a column is constant). */
function normaliseToFront(rows: readonly (readonly number[])[]): number[][] {
  const m = rows[0].length;
  const lo = Array.from({ length: m }, (_, k) => Math.min(...rows.map((r) => r[k])));
  const hi = Array.from({ length: m }, (_, k) => Math.max(...rows.map((r) => r[k])));
  return rows.map((r) => r.map((v, k) => (hi[k] > lo[k] ? (v - lo[k]) / (hi[k] - lo[k]) : 0)));
}

/** a solving A a = b by Gaussian elimination with partial pivoting; undefined when A is (near) singular. */
function solveLinear(rows: readonly (readonly number[])[], b: readonly number[]): number[] | undefined {
  const n = b.length;
  const a = rows.map((r, i) => [...r, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r][c]) > Math.abs(a[p][c])) p = r;
    if (Math.abs(a[p][c]) < 1e-12) return undefined;
    [a[c], a[p]] = [a[p], a[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r][c] / a[c][c];
      for (let k = c; k <= n; k++) a[r][k] -= f * a[c][k];
    }
  }
  return a.map((row, i) => row[n] / row[i]);
}

/**
 * The hypervolume (maximisation) dominated by `points` and bounded below by
 * `reference`: the measure of { y : reference ≤ y ≤ some point }. Points not
 * strictly above the reference in every objective add nothing. Exact, by
 * slicing along the last objective (HSO, While et al. 2006): fine for the
 * fronts of a tuning run (tens of points, a few objectives).
 */
export function hypervolume(points: readonly (readonly number[])[], reference: readonly number[]): number {
  const m = reference.length;
  const inside = points.filter((p) => p.length === m && p.every((v, k) => Number.isFinite(v) && v > reference[k]));
  if (inside.length === 0) return 0;
  if (m === 1) return Math.max(...inside.map((p) => p[0])) - reference[0];
  // Slices between consecutive values of the last objective, top down.
  const sorted = [...inside].sort((a, b) => b[m - 1] - a[m - 1]);
  let volume = 0;
  for (let i = 0; i < sorted.length; i++) {
    const top = sorted[i][m - 1];
    const bottom = i + 1 < sorted.length ? sorted[i + 1][m - 1] : reference[m - 1];
    if (top <= bottom) continue;
    const slice = sorted.slice(0, i + 1).map((p) => p.slice(0, m - 1));
    volume += hypervolume(slice, reference.slice(0, m - 1)) * (top - bottom);
  }
  return volume;
}
