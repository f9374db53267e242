import type { Rng } from '../util/rng.js';
import type { SynthFrameOptions } from './synth-options.js';

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

/** Fraction of a body's normalised radius over which its edge falls from 1 to 0 (a soft, cell-like rim). */
const BODY_EDGE = 0.15;

/**
 * The bodies' footprint in [0, 1] per pixel: 1 inside a body, a cosine fall-off over its rim, 0
 * outside; where bodies overlap, the larger value. Null without bodies, and then nothing is drawn
 * from `rng`, so frames without bodies stay as they were.
 */
export function bodyField(width: number, height: number, bodies: SynthFrameOptions['bodies'], rng: Rng): Float32Array | null {
  if (bodies.count === 0) return null;
  const field = new Float32Array(width * height);
  const short = Math.min(width, height);
  for (let k = 0; k < bodies.count; k++) {
    const a = (rng.uniform(bodies.size[0], bodies.size[1]) * short) / 2;
    const b = a * rng.uniform(0.5, 1);
    const angle = rng.uniform(0, Math.PI);
    const cx = rng.uniform(0, width);
    const cy = rng.uniform(0, height);
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    const x0 = Math.max(0, Math.floor(cx - a));
    const x1 = Math.min(width - 1, Math.ceil(cx + a));
    const y0 = Math.max(0, Math.floor(cy - a));
    const y1 = Math.min(height - 1, Math.ceil(cy + a));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const dx = x + 0.5 - cx;
        const dy = y + 0.5 - cy;
        const u = (dx * cos + dy * sin) / a;
        const v = (-dx * sin + dy * cos) / b;
        const r = Math.sqrt(u * u + v * v);
        if (r >= 1) continue;
        const value = r <= 1 - BODY_EDGE ? 1 : 0.5 * (1 + Math.cos((Math.PI * (r - 1 + BODY_EDGE)) / BODY_EDGE));
        const i = y * width + x;
        if (value > field[i]) field[i] = value;
      }
    }
  }
  return field;
}
