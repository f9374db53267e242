import { SamstarError } from '../util/errors.js';

export interface Components {
  /** Per pixel: 0 = background, 1..count = component, numbered in raster order of each component's first pixel. */
  readonly labels: Int32Array;
  readonly count: number;
  /** Pixel count per label; index = label, [0] unused (0). */
  readonly areas: Int32Array;
}

/**
 * Connected components of the pixels where data ≠ 0: classic two-pass labelling
 * with union-find on typed arrays (no per-pixel objects, no recursion, no queue).
 *
 * Pass 1 gives each pixel a provisional label from its already-visited
 * neighbours (left, up; plus up-left and up-right for 8-connectivity) and
 * records equivalences; roots are always the smallest provisional label of a
 * set, so pass 2 can number components in the order their first pixel appears.
 */
export function labelComponents(data: Uint8Array, width: number, height: number, connectivity: 4 | 8 = 8): Components {
  if (data.length !== width * height) {
    throw new SamstarError('SIZE_MISMATCH', `labelComponents: mask has ${data.length} pixels; expected ${width}×${height} = ${width * height}`);
  }
  if (connectivity !== 4 && connectivity !== 8) {
    throw new SamstarError('ARGUMENT_INVALID', `labelComponents: connectivity ${String(connectivity)} is invalid; expected 4 or 8`);
  }
  const labels = new Int32Array(width * height);
  // A new provisional label is only made where the left neighbour is background, so
  // a row holds at most ceil(width/2) of them.
  const parent = new Int32Array(Math.ceil(width / 2) * height + 1);
  let next = 1;
  const eight = connectivity === 8;

  for (let y = 0; y < height; y++) {
    const row = y * width;
    const up = row - width;
    for (let x = 0; x < width; x++) {
      const i = row + x;
      if (data[i] === 0) continue;
      let label = 0;
      if (x > 0 && labels[i - 1] !== 0) label = labels[i - 1];
      if (y > 0) {
        label = join(parent, label, labels[up + x]);
        if (eight) {
          if (x > 0) label = join(parent, label, labels[up + x - 1]);
          if (x + 1 < width) label = join(parent, label, labels[up + x + 1]);
        }
      }
      if (label === 0) {
        label = next++;
        parent[label] = label;
      }
      labels[i] = label;
    }
  }

  // Final numbers: roots in increasing order are exactly the components in raster order of their first pixel.
  const final = new Int32Array(next);
  let count = 0;
  for (let l = 1; l < next; l++) {
    const root = find(parent, l);
    final[l] = root === l ? ++count : final[root];
  }
  const areas = new Int32Array(count + 1);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l !== 0) {
      const f = final[l];
      labels[i] = f;
      areas[f]++;
    }
  }
  return { labels, count, areas };
}

/** Union of the sets of a and b (either may be 0 = none); returns the surviving root. */
function join(parent: Int32Array, a: number, b: number): number {
  if (b === 0) return a;
  if (a === 0) return find(parent, b);
  const ra = find(parent, a);
  const rb = find(parent, b);
  if (ra === rb) return ra;
  // Keep the smaller label as root: pass 2 relies on it.
  if (ra < rb) {
    parent[rb] = ra;
    return ra;
  }
  parent[ra] = rb;
  return rb;
}

/** Root of l, halving the path on the way (keeps trees shallow without recursion). */
function find(parent: Int32Array, l: number): number {
  while (parent[l] !== l) {
    parent[l] = parent[parent[l]];
    l = parent[l];
  }
  return l;
}
