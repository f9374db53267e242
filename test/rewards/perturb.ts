import type { LabelImage } from '../../src/masks/types.js';
import { cropsFromLabels } from '../../src/measure/crops.js';
import { Rng } from '../../src/util/rng.js';

/**
 * Ways to spoil a true label image, for "the reward moves the right way" tests: each returns a
 * new label image and leaves the input alone.
 */
function copy(label: LabelImage): LabelImage {
  return { width: label.width, height: label.height, data: Uint32Array.from(label.data) };
}

/** Erode every instance by `steps` 4-connected steps (pixels next to another label or background go). */
export function erode(label: LabelImage, steps: number): LabelImage {
  let current = copy(label);
  const { width, height } = label;
  for (let s = 0; s < steps; s++) {
    const src = current.data;
    const out = Uint32Array.from(src);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const p = y * width + x;
        const v = src[p];
        if (v === 0) continue;
        const keep =
          x > 0 && x < width - 1 && y > 0 && y < height - 1 &&
          src[p - 1] === v && src[p + 1] === v && src[p - width] === v && src[p + width] === v;
        if (!keep) out[p] = 0;
      }
    }
    current = { width, height, data: out };
  }
  return current;
}

/** Grow every instance into the background by `steps` 4-connected steps. */
export function dilate(label: LabelImage, steps: number): LabelImage {
  let current = copy(label);
  const { width, height } = label;
  for (let s = 0; s < steps; s++) {
    const src = current.data;
    const out = Uint32Array.from(src);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const p = y * width + x;
        if (src[p] !== 0) continue;
        const v = (x > 0 && src[p - 1]) || (x < width - 1 && src[p + 1]) || (y > 0 && src[p - width]) || (y < height - 1 && src[p + width]) || 0;
        if (v) out[p] = v;
      }
    }
    current = { width, height, data: out };
  }
  return current;
}

/** Merge each instance with its nearest neighbour (by centroid), pairwise: about half as many instances. */
export function mergeNeighbours(label: LabelImage): LabelImage {
  const crops = cropsFromLabels(label).crops;
  const centre = crops.map((c) => [c.row0 + c.rows / 2, c.col0 + c.cols / 2]);
  const target = new Map<number, number>();
  const used = new Set<number>();
  crops.forEach((c, i) => {
    if (used.has(i)) return;
    let best = -1, bestD = Infinity;
    crops.forEach((_, j) => {
      if (j === i || used.has(j)) return;
      const d = Math.hypot(centre[i][0] - centre[j][0], centre[i][1] - centre[j][1]);
      if (d < bestD) (bestD = d), (best = j);
    });
    used.add(i);
    if (best >= 0) {
      used.add(best);
      target.set(crops[best].label, c.label);
    }
  });
  const out = copy(label);
  for (let p = 0; p < out.data.length; p++) {
    const to = target.get(out.data[p]);
    if (to !== undefined) out.data[p] = to;
  }
  return out;
}

/** Split every instance in two along the vertical line through its box centre. */
export function splitInstances(label: LabelImage): LabelImage {
  const crops = cropsFromLabels(label).crops;
  let next = crops.reduce((m, c) => Math.max(m, c.label), 0) + 1;
  const out = copy(label);
  for (const c of crops) {
    if (c.cols < 2) continue;
    const newLabel = next++;
    const cut = c.col0 + Math.floor(c.cols / 2);
    for (let y = c.row0; y < c.row0 + c.rows; y++) {
      for (let x = cut; x < c.col0 + c.cols; x++) {
        if (out.data[y * label.width + x] === c.label) out.data[y * label.width + x] = newLabel;
      }
    }
  }
  return out;
}

/** Add `count` square blobs of side `side` on empty background (false positives). */
export function addBackgroundBlobs(label: LabelImage, count: number, side: number, seed = 1): LabelImage {
  const out = copy(label);
  const { width, height } = label;
  const rng = new Rng(seed);
  let next = label.data.reduce((m, v) => Math.max(m, v), 0) + 1;
  let placed = 0;
  for (let attempt = 0; attempt < count * 200 && placed < count; attempt++) {
    const x0 = 2 + rng.int(width - side - 4), y0 = 2 + rng.int(height - side - 4);
    let free = true;
    for (let y = y0 - 2; y < y0 + side + 2 && free; y++) for (let x = x0 - 2; x < x0 + side + 2; x++) if (out.data[y * width + x]) free = false;
    if (!free) continue;
    for (let y = y0; y < y0 + side; y++) for (let x = x0; x < x0 + side; x++) out.data[y * width + x] = next;
    next++;
    placed++;
  }
  return out;
}

/** Add one instance covering all of the background (SAM's background mask). */
export function addBackgroundMask(label: LabelImage): LabelImage {
  const out = copy(label);
  const next = label.data.reduce((m, v) => Math.max(m, v), 0) + 1;
  for (let p = 0; p < out.data.length; p++) if (out.data[p] === 0) out.data[p] = next;
  return out;
}
