/**
 * Space-filling designs for the Bayesian-optimisation agent (unit cube):
 * a seeded Latin hypercube for the initial design and a randomly shifted
 * R_d (generalised golden-ratio Kronecker) sequence for the acquisition sweep.
 */
import type { Rng } from '../src/util/rng.js';

/** n points of a Latin hypercube in [0, 1]^d: one point per stratum in every dimension, jittered inside it. */
export function latinHypercube(n: number, d: number, rng: Rng): number[][] {
  const points = Array.from({ length: n }, () => new Array<number>(d));
  for (let k = 0; k < d; k++) {
    const perm = rng.shuffle(Array.from({ length: n }, (_, i) => i));
    for (let i = 0; i < n; i++) points[i][k] = (perm[i] + rng.next()) / n;
  }
  return points;
}

/**
 * The R_d low-discrepancy sequence (Roberts 2018): u_i = frac(shift + i·α) with
 * α_k = φ_d^−(k+1), φ_d the positive root of x^(d+1) = x + 1. Cheap, with
 * Sobol-like uniformity in low dimensions; the random shift (Cranley–Patterson
 * rotation) makes every sweep different but reproducible from the seed.
 */
export class KroneckerSequence {
  private readonly alpha: Float64Array;
  private readonly shift: Float64Array;
  private index = 0;

  constructor(readonly d: number, rng: Rng) {
    let phi = 2;
    for (let it = 0; it < 50; it++) phi = Math.pow(1 + phi, 1 / (d + 1));
    this.alpha = new Float64Array(d);
    this.shift = new Float64Array(d);
    for (let k = 0; k < d; k++) {
      this.alpha[k] = Math.pow(1 / phi, k + 1) % 1;
      this.shift[k] = rng.next();
    }
  }

  /** The next point, written into out. */
  next(out: Float64Array = new Float64Array(this.d)): Float64Array {
    this.index++;
    for (let k = 0; k < this.d; k++) {
      const v = this.shift[k] + this.index * this.alpha[k];
      out[k] = v - Math.floor(v);
    }
    return out;
  }
}
