import { describe, expect, it } from 'vitest';
import { gaussianBlur, gaussianKernel } from '../../src/image/blur.js';
import { Rng } from '../../src/util/rng.js';

/** The separable blur as a plain per-pixel double loop (mirrored indices), taps summed in kernel order. */
function referenceBlur(data: Float32Array, width: number, height: number, sigma: number): Float32Array {
  const kernel = gaussianKernel(sigma);
  const r = (kernel.length - 1) / 2;
  const mirror = (i: number, n: number): number => {
    while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - i - 1;
    return i;
  };
  const tmp = new Float32Array(width * height);
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = 0; k < kernel.length; k++) s += kernel[k] * data[y * width + mirror(x - r + k, width)];
      tmp[y * width + x] = s;
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = 0; k < kernel.length; k++) s += kernel[k] * tmp[mirror(y - r + k, height) * width + x];
      out[y * width + x] = s;
    }
  }
  return out;
}

describe('gaussianBlur', () => {
  it('keeps a constant image constant (mirrored borders, normalised kernel)', () => {
    const out = gaussianBlur(new Float32Array(30 * 20).fill(7), 30, 20, 2.5);
    for (const v of out) expect(v).toBeCloseTo(7, 4);
  });

  it('spreads an impulse into a symmetric Gaussian with the requested sigma', () => {
    const w = 41;
    const data = new Float32Array(w * w);
    data[20 * w + 20] = 1;
    const sigma = 2;
    const out = gaussianBlur(data, w, w, sigma);
    let sum = 0;
    let m2 = 0;
    for (let y = 0; y < w; y++) {
      for (let x = 0; x < w; x++) {
        const v = out[y * w + x];
        sum += v;
        m2 += v * (x - 20) ** 2;
      }
    }
    expect(sum).toBeCloseTo(1, 4);
    expect(Math.sqrt(m2 / sum)).toBeCloseTo(sigma, 1);
    expect(out[20 * w + 23]).toBeCloseTo(out[20 * w + 17], 6);
    expect(out[23 * w + 20]).toBeCloseTo(out[20 * w + 23], 6);
  });

  it('is bit for bit the per-pixel separable blur (row-at-a-time columns and the contiguous interior change speed, not values)', () => {
    const rng = new Rng(4);
    for (const [w, h, sigma] of [[97, 61, 0.7], [50, 33, 3.3], [16, 40, 9], [7, 5, 4]] as const) {
      const data = Float32Array.from({ length: w * h }, () => rng.next() * 255);
      expect(gaussianBlur(data, w, h, sigma)).toEqual(referenceBlur(data, w, h, sigma));
    }
  });

  it('sigma 0 is a copy; kernel length is 2·ceil(3σ)+1', () => {
    const data = Float32Array.from([1, 2, 3, 4]);
    const out = gaussianBlur(data, 2, 2, 0);
    expect(out).toEqual(data);
    expect(out).not.toBe(data);
    expect(gaussianKernel(1.5).length).toBe(11);
  });
});
