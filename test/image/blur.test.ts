import { describe, expect, it } from 'vitest';
import { gaussianBlur, gaussianKernel } from '../../src/image/blur.js';

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

  it('sigma 0 is a copy; kernel length is 2·ceil(3σ)+1', () => {
    const data = Float32Array.from([1, 2, 3, 4]);
    const out = gaussianBlur(data, 2, 2, 0);
    expect(out).toEqual(data);
    expect(out).not.toBe(data);
    expect(gaussianKernel(1.5).length).toBe(11);
  });
});
