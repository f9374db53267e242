/**
 * Kuhn–Munkres / Jonker–Volgenant shortest augmenting path assignment, O(n²·m), on a dense
 * n × m cost matrix (row-major Float64Array) with n ≤ m. Returns, for each row, its column.
 *
 * Used only on the small connected components of the overlap graph (see assignment.ts), so the
 * dense matrix stays tiny even for frames with thousands of instances.
 */
export function solveAssignment(cost: Float64Array, n: number, m: number): Int32Array {
  if (n > m) throw new Error(`solveAssignment needs rows ≤ columns, got ${n} × ${m}`);
  const INF = Number.POSITIVE_INFINITY;
  // 1-based potentials and matching, as in the classic formulation; p[j] = row matched to column j.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1);
  const way = new Int32Array(m + 1);
  const minv = new Float64Array(m + 1);
  const used = new Uint8Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(INF);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0];
      let delta = INF;
      let j1 = 0;
      const row = (i0 - 1) * m - 1;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const current = cost[row + j] - u[i0] - v[j];
        if (current < minv[j]) {
          minv[j] = current;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  const assignment = new Int32Array(n).fill(-1);
  for (let j = 1; j <= m; j++) if (p[j] !== 0) assignment[p[j] - 1] = j - 1;
  return assignment;
}
