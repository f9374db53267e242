import type { Rng } from '../util/rng.js';

/**
 * A smooth, uneven illumination field in [−1, 1] (max |value| = 1 unless
 * flat): a linear gradient in a random direction plus three broad Gaussian
 * bumps of random sign, the low-frequency shading of real wide-field images
 * that a global threshold gets wrong. Bumps are separable, so the cost is
 * O(width·height) multiplications and no per-pixel exp.
 */
export function unevenField(width: number, height: number, rng: Rng): Float32Array {
  const field = new Float32Array(width * height);
  const size = Math.max(width, height);
  const theta = rng.uniform(0, 2 * Math.PI);
  const gx = Math.cos(theta) / size;
  const gy = Math.sin(theta) / size;
  const weightGradient = rng.uniform(0.3, 1);
  const bumps = Array.from({ length: 3 }, () => {
    const cx = rng.uniform(0, width);
    const cy = rng.uniform(0, height);
    const sigma = rng.uniform(0.2, 0.5) * size;
    const sign = rng.next() < 0.5 ? -1 : 1;
    const weight = sign * rng.uniform(0.3, 1);
    const col = new Float32Array(width);
    const row = new Float32Array(height);
    for (let x = 0; x < width; x++) col[x] = Math.exp(-((x - cx) ** 2) / (2 * sigma * sigma));
    for (let y = 0; y < height; y++) row[y] = weight * Math.exp(-((y - cy) ** 2) / (2 * sigma * sigma));
    return { col, row };
  });
  let maxAbs = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let v = weightGradient * ((x - width / 2) * gx + (y - height / 2) * gy);
      for (const bump of bumps) v += bump.row[y] * bump.col[x];
      field[y * width + x] = v;
      if (Math.abs(v) > maxAbs) maxAbs = Math.abs(v);
    }
  }
  if (maxAbs > 0) for (let i = 0; i < field.length; i++) field[i] /= maxAbs;
  return field;
}
