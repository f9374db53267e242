/**
 * CMA-ES strategy parameters: Hansen's tutorial defaults ("The CMA Evolution
 * Strategy: A Tutorial", 2016, table 1) with the active (negative) weights as
 * in that tutorial, and pycma's c_μ (see cmaesParameters). The figures are
 * pinned in test/agents/cmaes.test.ts; bench/cmaes.ts holds the reference
 * evaluation counts they were checked against.
 */

export interface CmaEsParameters {
  readonly n: number;
  /** Population size λ. */
  readonly lambda: number;
  /** Parents μ = ⌊λ/2⌋ (the positive weights). */
  readonly mu: number;
  /**
   * Recombination weights, one per rank (best first): the first μ positive and
   * summing to 1, the rest ≤ 0 (scaled as in the tutorial when active, zero otherwise).
   */
  readonly weights: Float64Array;
  /** Σ of all λ weights (1 − Σ|w⁻|): the decay factor of C uses it. */
  readonly weightSum: number;
  /** Variance-effective selection mass of the positive weights. */
  readonly mueff: number;
  /** The same for the negative weights (0 when there are none). */
  readonly mueffNeg: number;
  /** Learning rate of the mean (1). */
  readonly cm: number;
  readonly cs: number;
  readonly ds: number;
  readonly cc: number;
  readonly c1: number;
  readonly cmu: number;
  /** E‖N(0, I)‖ ≈ √n (1 − 1/(4n) + 1/(21n²)). */
  readonly chiN: number;
  /** Whether the negative weights are on. */
  readonly active: boolean;
}

export function defaultPopulationSize(n: number): number {
  return 4 + Math.floor(3 * Math.log(n));
}

/**
 * `cmu: 'pycma'` (default) is pycma's c_μ = min(1 − c₁, 2(1/4 + μ_eff − 2 + 1/μ_eff)/((n + 2)² + μ_eff)),
 * with the extra 1/4 in the numerator: the reference evaluation counts (bench/cmaes.ts) were made
 * with it, and it learns the covariance faster in small n. `'tutorial'` is the tutorial's form
 * without the 1/4, kept for comparison (`npm run bench -- cmaes --tutorial-cmu`).
 */
export function cmaesParameters(n: number, options: { popsize?: number; active?: boolean; cmu?: 'tutorial' | 'pycma' } = {}): CmaEsParameters {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`CMA-ES dimension must be a positive integer, got ${n}`);
  const lambda = options.popsize ?? defaultPopulationSize(n);
  if (!Number.isInteger(lambda) || lambda < 2) throw new RangeError(`CMA-ES population size must be an integer ≥ 2, got ${lambda}`);
  const active = options.active ?? true;
  const mu = Math.floor(lambda / 2);

  const raw = new Float64Array(lambda);
  for (let i = 0; i < lambda; i++) raw[i] = Math.log((lambda + 1) / 2) - Math.log(i + 1);

  let sumPos = 0;
  let sumPos2 = 0;
  let sumNeg = 0;
  let sumNeg2 = 0;
  for (let i = 0; i < lambda; i++) {
    if (i < mu) {
      sumPos += raw[i];
      sumPos2 += raw[i] * raw[i];
    } else if (raw[i] < 0) {
      sumNeg += raw[i];
      sumNeg2 += raw[i] * raw[i];
    }
  }
  const mueff = (sumPos * sumPos) / sumPos2;
  const mueffNeg = sumNeg2 > 0 ? (sumNeg * sumNeg) / sumNeg2 : 0;

  const cs = (mueff + 2) / (n + mueff + 5);
  const ds = 1 + 2 * Math.max(0, Math.sqrt((mueff - 1) / (n + 1)) - 1) + cs;
  const cc = (4 + mueff / n) / (n + 4 + (2 * mueff) / n);
  const c1 = 2 / ((n + 1.3) ** 2 + mueff);
  const cmuOffset = options.cmu === 'tutorial' ? 0 : 0.25;
  const cmu = Math.min(1 - c1, (2 * (cmuOffset + mueff - 2 + 1 / mueff)) / ((n + 2) ** 2 + mueff));

  // Negative weights: Σ|w⁻| = min(α_μ⁻, α_μeff⁻, α_posdef⁻) (tutorial eq. 50–53).
  let negTotal = 0;
  if (active && sumNeg < 0 && cmu > 0) {
    const alphaMu = 1 + c1 / cmu;
    const alphaMueff = 1 + (2 * mueffNeg) / (mueff + 2);
    const alphaPosdef = (1 - c1 - cmu) / (n * cmu);
    negTotal = Math.min(alphaMu, alphaMueff, alphaPosdef);
  }
  const weights = new Float64Array(lambda);
  let weightSum = 0;
  for (let i = 0; i < lambda; i++) {
    if (i < mu) weights[i] = raw[i] / sumPos;
    else if (raw[i] < 0 && negTotal > 0) weights[i] = (negTotal * raw[i]) / -sumNeg;
    else weights[i] = 0;
    weightSum += weights[i];
  }
  const chiN = Math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n));
  return { n, lambda, mu, weights, weightSum, mueff, mueffNeg, cm: 1, cs, ds, cc, c1, cmu, chiN, active };
}
