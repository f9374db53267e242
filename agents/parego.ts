/**
 * Multi-objective search by random scalarisations, in the manner of ParEGO
 * (Knowles, "ParEGO: a hybrid algorithm with on-line landscape approximation for
 * expensive multiobjective optimization problems", IEEE Trans. Evol. Comput.
 * 10(1), 2006): the objective vector of every evaluation is turned into one
 * number by the augmented Chebyshev function of a weight vector λ,
 *
 *   s_λ(f) = −( max_i λ_i (1 − n_i) + ρ Σ_i λ_i (1 − n_i) ),   ρ = 0.05,
 *
 * where n_i ∈ [0, 1] is objective i rescaled over every evaluation so far (all
 * objectives maximised; 1 is the best value seen). Unlike a weighted sum, the
 * Chebyshev function reaches every point of a front, concave parts included.
 *
 * ParEGO draws a new λ on every iteration of one Gaussian-process model; here
 * the search runs in rounds of a fixed number of evaluations (default two
 * CMA-ES generations, 2·(4 + ⌊3 ln d⌋)), each with its own λ, and each round runs
 * a fresh scalar agent (CMA-ES, BO, random: whatever `makeAgent` builds) on s_λ,
 * warm-started at the evaluation with the best s_λ so far; round 0 is the
 * initial design (ParEGO starts from a space-filling design; the runner's factory
 * gives a uniform random sampler there). The rounds' weights
 * spread over the simplex whatever the budget: with two objectives λ₁ follows
 * the golden-ratio sequence from a seeded offset (every prefix is evenly
 * spread), with more they are uniform draws on the simplex. Nothing depends on
 * the total budget, and everything random comes from the seed: the same seed
 * and the same told vectors give the same asks, so a study resumes by replay,
 * with the same or a larger budget, exactly as with a single objective.
 *
 * The agent sees numbers only; the runner hands it the objective vectors with
 * `tellVectors` (the AskTellAgent `tell` of scalar rewards is refused).
 */
import { SamstarError } from '../src/util/errors.js';
import { Rng } from '../src/util/rng.js';
import type { AgentBest, AskTellAgent, SearchBounds } from './types.js';

export const CHEBYSHEV_RHO = 0.05;

export interface ScalarisedSearchOptions {
  /** Number of objectives (≥ 1). */
  readonly objectives: number;
  /** Total evaluations. */
  readonly maxEvaluations: number;
  /** Evaluations per round (one weight vector each); default 2·(4 + ⌊3 ln d⌋): two CMA-ES generations. */
  readonly roundEvaluations?: number;
  /** Augmentation ρ of the Chebyshev function (default 0.05, as ParEGO). */
  readonly rho?: number;
}

/**
 * Builds the scalar agent of one round: its seed, its evaluation budget, a warm start (the told point
 * best under the round's weights; none in round 0) and the round's number. Round 0 is the initial
 * design (ParEGO starts from a space-filling design): the factory should return a sampler there.
 */
export type RoundAgentFactory = (seed: number, budget: number, start: readonly number[] | undefined, round: number) => AskTellAgent;

export class ScalarisedSearch implements AskTellAgent {
  readonly name = 'parego';
  readonly dimension: number;
  readonly roundEvaluations: number;
  /** Weight vector of each round started so far. */
  private readonly weights: number[][] = [];
  private readonly rng: Rng;
  private readonly weightRng: Rng;
  private readonly offset: number;
  private readonly rho: number;
  private readonly xs: number[][] = [];
  private readonly ys: number[][] = [];
  private round = -1;
  private inner: AskTellAgent | undefined;
  private innerBudget = 0;
  private innerTold = 0;
  private pending: number[][] = [];

  constructor(
    bounds: SearchBounds,
    seed: number,
    private readonly options: ScalarisedSearchOptions,
    private readonly makeAgent: RoundAgentFactory,
  ) {
    this.dimension = bounds.low.length;
    const m = options.objectives;
    if (!(Number.isInteger(m) && m >= 1)) throw new SamstarError('ARGUMENT_INVALID', `parego: objectives = ${m}; expected a whole number ≥ 1`);
    if (!(Number.isInteger(options.maxEvaluations) && options.maxEvaluations >= 1)) {
      throw new SamstarError('ARGUMENT_INVALID', `parego: maxEvaluations = ${options.maxEvaluations}; expected a whole number ≥ 1`);
    }
    const per = options.roundEvaluations ?? 2 * (4 + Math.floor(3 * Math.log(Math.max(1, this.dimension))));
    if (!(Number.isInteger(per) && per >= 1)) throw new SamstarError('ARGUMENT_INVALID', `parego: roundEvaluations = ${per}; expected a whole number ≥ 1`);
    this.roundEvaluations = per;
    this.rho = options.rho ?? CHEBYSHEV_RHO;
    this.rng = new Rng(seed);
    this.weightRng = this.rng.fork();
    this.offset = this.weightRng.next();
  }

  /** Weight vectors of the rounds started so far, in order. */
  roundWeights(): number[][] {
    return this.weights.map((w) => [...w]);
  }

  /** The weight vector of the round now running (undefined before the first ask). */
  currentWeights(): readonly number[] | undefined {
    return this.round >= 0 ? this.weights[this.round] : undefined;
  }

  ask(): number[][] {
    if (this.xs.length >= this.options.maxEvaluations) return (this.pending = []);
    let asked: number[][] = [];
    // A round's agent that has nothing more to ask (spent, stopped) hands over to the next round.
    for (let tries = 0; tries < 3 && asked.length === 0; tries++) {
      if (!this.inner || this.innerTold >= this.innerBudget || this.inner.stop().length > 0 || tries > 0) this.nextRound();
      asked = this.inner!.ask();
    }
    this.pending = asked.map((x) => [...x]);
    return asked;
  }

  tell(): void {
    throw new SamstarError('ARGUMENT_INVALID', 'parego: tell the objective vectors with tellVectors(), not scalar rewards', {
      hint: 'the training runner does this for a reward config with objectives',
    });
  }

  /** Objective vectors (maximised; NaN entries = failed) of exactly the candidates of the last ask(). */
  tellVectors(candidates: readonly (readonly number[])[], vectors: readonly (readonly number[])[]): void {
    if (candidates.length !== this.pending.length || vectors.length !== candidates.length) {
      throw new SamstarError('ARGUMENT_INVALID', `parego: told ${candidates.length} candidates and ${vectors.length} vectors, expected ${this.pending.length} (the last ask())`);
    }
    for (const v of vectors) {
      if (v.length !== this.options.objectives) throw new SamstarError('ARGUMENT_INVALID', `parego: an objective vector has ${v.length} entries, expected ${this.options.objectives}`);
    }
    candidates.forEach((x, i) => {
      this.xs.push([...x]);
      this.ys.push([...vectors[i]]);
    });
    const lambda = this.weights[this.round];
    const ranges = this.ranges();
    this.inner!.tell(candidates, vectors.map((v) => this.scalarise(v, lambda, ranges)));
    this.innerTold += candidates.length;
    this.pending = [];
  }

  stop(): string[] {
    return this.xs.length >= this.options.maxEvaluations ? ['budget'] : [];
  }

  /** The scalar agent's notion of best is per round; the runner keeps the Pareto archive instead. */
  best(): AgentBest | undefined {
    return undefined;
  }

  /** s_λ(f) with the current ranges; NaN for a failed evaluation. */
  private scalarise(v: readonly number[], lambda: readonly number[], ranges: { lo: number[]; hi: number[] }): number {
    if (!v.every(Number.isFinite)) return Number.NaN;
    let worst = -Infinity;
    let sum = 0;
    v.forEach((f, i) => {
      const span = ranges.hi[i] - ranges.lo[i];
      const n = span > 0 ? (f - ranges.lo[i]) / span : 1;
      const gap = lambda[i] * (1 - n);
      worst = Math.max(worst, gap);
      sum += gap;
    });
    return -(worst + this.rho * sum);
  }

  /** λ of the next round (see the file comment). */
  private nextWeights(): number[] {
    const m = this.options.objectives;
    if (m === 1) return [1];
    if (m === 2) {
      const w = (this.offset + this.round * GOLDEN) % 1;
      return [w, 1 - w];
    }
    const e = Array.from({ length: m }, () => -Math.log(1 - this.weightRng.next()));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / sum);
  }

  /** Range of each objective over the finite vectors told so far. */
  private ranges(): { lo: number[]; hi: number[] } {
    const m = this.options.objectives;
    const lo = new Array<number>(m).fill(Infinity);
    const hi = new Array<number>(m).fill(-Infinity);
    for (const v of this.ys) {
      if (!v.every(Number.isFinite)) continue;
      v.forEach((f, i) => {
        lo[i] = Math.min(lo[i], f);
        hi[i] = Math.max(hi[i], f);
      });
    }
    return { lo, hi };
  }

  /** Start the next round: its λ, its budget, a warm start at the best told point under λ. */
  private nextRound(): void {
    this.round++;
    this.weights.push(this.nextWeights());
    this.innerBudget = this.roundEvaluations;
    this.innerTold = 0;
    const lambda = this.weights[this.round];
    const ranges = this.ranges();
    let start: number[] | undefined;
    let bestScore = -Infinity;
    this.ys.forEach((v, i) => {
      const s = this.scalarise(v, lambda, ranges);
      if (s > bestScore) {
        bestScore = s;
        start = this.xs[i];
      }
    });
    this.inner = this.makeAgent(this.rng.nextUint32(), this.innerBudget, start ? [...start] : undefined, this.round);
  }
}

/** 1/φ: consecutive multiples modulo 1 fill [0, 1) evenly (the golden-ratio sequence). */
const GOLDEN = 0.6180339887498949;
