import { solveAssignment } from './hungarian.js';

/**
 * Maximum-weight bipartite matching over a sparse set of candidate pairs.
 *
 * Matching instances only ever pairs instances that overlap (or lie close), so the candidate
 * graph splits into many small connected components; each is solved exactly with a dense
 * Hungarian on its own few rows and columns, and a component with a single pair is matched
 * directly. 500 instances cost about as much as 500 tiny problems.
 */
export interface Candidates {
  /** Pair k links prediction pred[k] with truth truth[k] with weight weight[k] > 0. */
  readonly pred: Int32Array;
  readonly truth: Int32Array;
  readonly weight: Float64Array;
}

/** Indices k of the chosen pairs (no prediction or truth used twice, total weight maximal). */
export function maxWeightMatching(candidates: Candidates, predCount: number, truthCount: number): number[] {
  const { pred, truth, weight } = candidates;
  const pairs = pred.length;
  if (pairs === 0) return [];
  // Union–find over nodes: predictions 0..P−1, truths P..P+T−1.
  const parent = new Int32Array(predCount + truthCount);
  for (let i = 0; i < parent.length; i++) parent[i] = i;
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  };
  for (let k = 0; k < pairs; k++) {
    const a = find(pred[k]);
    const b = find(predCount + truth[k]);
    if (a !== b) parent[a] = b;
  }
  const components = new Map<number, number[]>();
  for (let k = 0; k < pairs; k++) {
    const root = find(pred[k]);
    const list = components.get(root);
    if (list) list.push(k);
    else components.set(root, [k]);
  }

  const chosen: number[] = [];
  for (const edges of components.values()) {
    if (edges.length === 1) {
      chosen.push(edges[0]);
      continue;
    }
    chosen.push(...solveComponent(edges, pred, truth, weight));
  }
  return chosen.sort((a, b) => a - b);
}

function solveComponent(edges: number[], pred: Int32Array, truth: Int32Array, weight: Float64Array): number[] {
  const rowsOf = new Map<number, number>();
  const colsOf = new Map<number, number>();
  for (const k of edges) {
    if (!rowsOf.has(pred[k])) rowsOf.set(pred[k], rowsOf.size);
    if (!colsOf.has(truth[k])) colsOf.set(truth[k], colsOf.size);
  }
  // Rows must not outnumber columns: transpose when there are more predictions than truths.
  const transpose = rowsOf.size > colsOf.size;
  const n = transpose ? colsOf.size : rowsOf.size;
  const m = transpose ? rowsOf.size : colsOf.size;
  // Cost = −weight for candidate pairs, 0 otherwise (leaving a row unmatched costs nothing).
  const cost = new Float64Array(n * m);
  const edgeAt = new Int32Array(n * m).fill(-1);
  for (const k of edges) {
    const r = rowsOf.get(pred[k])!;
    const c = colsOf.get(truth[k])!;
    const cell = transpose ? c * m + r : r * m + c;
    if (edgeAt[cell] < 0 || weight[k] > -cost[cell]) {
      cost[cell] = -weight[k];
      edgeAt[cell] = k;
    }
  }
  const assignment = solveAssignment(cost, n, m);
  const result: number[] = [];
  for (let r = 0; r < n; r++) {
    const c = assignment[r];
    if (c >= 0 && edgeAt[r * m + c] >= 0) result.push(edgeAt[r * m + c]);
  }
  return result;
}
