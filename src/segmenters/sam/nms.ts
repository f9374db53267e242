import type { BoxXYXY } from '../../masks/types.js';

/**
 * Greedy box NMS as torchvision's nms: candidates in order of decreasing score
 * (stable for ties), a box is suppressed when its IoU with an already kept box
 * is strictly greater than `threshold`. Box area is (x1−x0)·(y1−y0), no +1;
 * IoU is computed in float32 like torchvision's CPU kernel. Returns the kept
 * indices in decreasing-score order.
 *
 * Kept boxes are indexed in a coarse grid so each candidate is compared only
 * with kept boxes near it: NMS over thousands of proposals stays well under a
 * millisecond when few survive, instead of O(n·kept).
 */
export function nms(boxes: readonly BoxXYXY[], scores: ArrayLike<number>, threshold: number): number[] {
  const n = boxes.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  if (n === 0) return [];
  let maxCoord = 1;
  for (const b of boxes) maxCoord = Math.max(maxCoord, b[2], b[3]);
  const cell = Math.max(16, Math.ceil((maxCoord + 1) / 32));
  const cellsPerSide = Math.ceil((maxCoord + 1) / cell) + 1;
  const buckets = new Map<number, number[]>();
  const seen = new Int32Array(n).fill(-1);
  const kept: number[] = [];
  for (const i of order) {
    const [x0, y0, x1, y1] = boxes[i];
    const area = (x1 - x0) * (y1 - y0);
    const cx0 = Math.floor(x0 / cell);
    const cx1 = Math.floor(x1 / cell);
    const cy0 = Math.floor(y0 / cell);
    const cy1 = Math.floor(y1 / cell);
    let suppressed = false;
    search: for (let cy = cy0; cy <= cy1; cy++) {
      for (let cx = cx0; cx <= cx1; cx++) {
        const bucket = buckets.get(cy * cellsPerSide + cx);
        if (!bucket) continue;
        for (const k of bucket) {
          if (seen[k] === i) continue;
          seen[k] = i;
          const [kx0, ky0, kx1, ky1] = boxes[k];
          const iw = Math.min(x1, kx1) - Math.max(x0, kx0);
          const ih = Math.min(y1, ky1) - Math.max(y0, ky0);
          if (iw <= 0 || ih <= 0) continue;
          const inter = iw * ih;
          const union = area + (kx1 - kx0) * (ky1 - ky0) - inter;
          if (Math.fround(inter / union) > threshold) {
            suppressed = true;
            break search;
          }
        }
      }
    }
    if (suppressed) continue;
    kept.push(i);
    for (let cy = cy0; cy <= cy1; cy++) {
      for (let cx = cx0; cx <= cx1; cx++) {
        const key = cy * cellsPerSide + cx;
        const bucket = buckets.get(key);
        if (bucket) bucket.push(i);
        else buckets.set(key, [i]);
      }
    }
  }
  return kept;
}
