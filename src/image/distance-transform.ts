/**
 * Exact Euclidean distance transform (Felzenszwalb & Huttenlocher, "Distance Transforms of Sampled
 * Functions", 2012): a 1-D lower-envelope-of-parabolas pass along every column, then along every
 * row, O(pixels). Used to find an object's most interior point (the maximum of its distance to
 * the background), where a single click prompt is placed.
 */

/** Stands in for "no background seen yet"; finite so that the envelope arithmetic never makes NaN. */
const FAR = 1e20;

/**
 * Squared Euclidean distance from every pixel to the nearest background pixel (mask = 0).
 * Everything outside the image counts as background, so an object cut by the frame edge gets its
 * interior point inside its visible part (scipy's distance_transform_edt on a zero-padded mask).
 */
export function squaredDistanceToBackground(mask: Uint8Array, width: number, height: number): Float64Array {
  const out = new Float64Array(width * height);
  const n = Math.max(width, height) + 2;
  const f = new Float64Array(n);
  const d = new Float64Array(n);
  const v = new Int32Array(n);
  const z = new Float64Array(n + 1);
  // Columns: f over y = −1..height (the padding rows are background).
  for (let x = 0; x < width; x++) {
    f[0] = 0;
    for (let y = 0; y < height; y++) f[y + 1] = mask[y * width + x] ? FAR : 0;
    f[height + 1] = 0;
    envelope(f, height + 2, d, v, z);
    for (let y = 0; y < height; y++) out[y * width + x] = d[y + 1];
  }
  // Rows: the column result, with background padding columns at x = −1 and x = width.
  for (let y = 0; y < height; y++) {
    const row = y * width;
    f[0] = 0;
    for (let x = 0; x < width; x++) f[x + 1] = out[row + x];
    f[width + 1] = 0;
    envelope(f, width + 2, d, v, z);
    for (let x = 0; x < width; x++) out[row + x] = d[x + 1];
  }
  return out;
}

/** d[q] = min over p of (q − p)² + f[p], for q, p in [0, n). v, z: scratch of length ≥ n, n + 1. */
function envelope(f: Float64Array, n: number, d: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = 0;
  v[0] = 0;
  z[0] = -Infinity;
  z[1] = Infinity;
  for (let q = 1; q < n; q++) {
    let s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * (q - v[k]));
    while (s <= z[k]) {
      k--;
      s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * (q - v[k]));
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k++;
    d[q] = (q - v[k]) * (q - v[k]) + f[v[k]];
  }
}

/**
 * The pixel of the mask farthest from the background (the first in raster order on ties), or null
 * for an empty mask.
 */
export function mostInteriorPixel(mask: Uint8Array, width: number, height: number): { x: number; y: number } | null {
  const dist = squaredDistanceToBackground(mask, width, height);
  let best = -1;
  let at = -1;
  for (let i = 0; i < dist.length; i++) {
    if (mask[i] && dist[i] > best) {
      best = dist[i];
      at = i;
    }
  }
  return at < 0 ? null : { x: at % width, y: Math.floor(at / width) };
}
