/**
 * Small dense linear algebra for the agents, on row-major Float64Arrays.
 *
 * `symmetricEigen` is a cyclic Jacobi eigensolver: simple, unconditionally
 * stable and accurate to working precision for the small matrices the agents
 * need (n ≤ ~50; a few sweeps of O(n³) each). No allocation: the caller owns
 * every buffer, so it can run inside an optimiser's loop.
 */

/**
 * Eigendecomposition of the symmetric n×n matrix `a` (row-major; only the
 * upper triangle is read, `a` itself is left untouched).
 *
 * On return `values[k]` holds the k-th eigenvalue and column k of `vectors`
 * (row-major n×n, entry (i, k) at `vectors[i * n + k]`) the matching unit
 * eigenvector, so a = V diag(values) Vᵀ. Eigenvalues are not sorted.
 * `work` must hold at least n² numbers. Returns the number of sweeps used.
 */
export function symmetricEigen(n: number, a: Float64Array, values: Float64Array, vectors: Float64Array, work: Float64Array, maxSweeps = 60): number {
  const w = work;
  // Symmetric working copy from the upper triangle; V = I.
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = a[i * n + j];
      w[i * n + j] = v;
      w[j * n + i] = v;
    }
  }
  vectors.fill(0, 0, n * n);
  for (let i = 0; i < n; i++) vectors[i * n + i] = 1;

  let sweep = 0;
  for (; sweep < maxSweeps; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < n; i++) {
      diag += w[i * n + i] * w[i * n + i];
      for (let j = i + 1; j < n; j++) off += w[i * n + j] * w[i * n + j];
    }
    if (off === 0 || off <= 1e-30 * diag) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = w[p * n + q];
        if (apq === 0) continue;
        const app = w[p * n + p];
        const aqq = w[q * n + q];
        // Skip rotations that can no longer change the diagonal in floating point.
        if (Math.abs(apq) < 1e-18 * Math.sqrt(Math.abs(app * aqq)) + Number.MIN_VALUE) {
          w[p * n + q] = 0;
          w[q * n + p] = 0;
          continue;
        }
        const theta = (aqq - app) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        // W ← Jᵀ W J with J = rotation in the (p, q) plane (c, s; −s, c).
        for (let k = 0; k < n; k++) {
          const wkp = w[k * n + p];
          const wkq = w[k * n + q];
          w[k * n + p] = c * wkp - s * wkq;
          w[k * n + q] = s * wkp + c * wkq;
        }
        for (let k = 0; k < n; k++) {
          const wpk = w[p * n + k];
          const wqk = w[q * n + k];
          w[p * n + k] = c * wpk - s * wqk;
          w[q * n + k] = s * wpk + c * wqk;
        }
        w[p * n + q] = 0;
        w[q * n + p] = 0;
        for (let k = 0; k < n; k++) {
          const vkp = vectors[k * n + p];
          const vkq = vectors[k * n + q];
          vectors[k * n + p] = c * vkp - s * vkq;
          vectors[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  for (let i = 0; i < n; i++) values[i] = w[i * n + i];
  return sweep;
}
