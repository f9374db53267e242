import { describe, expect, it } from 'vitest';
import { applyStretch, samplePercentiles, stretchRange, validateStretch } from '../../src/image/stretch.js';
import { Rng } from '../../src/util/rng.js';

/** numpy's default (linear) percentile on a full sort: the reference the histogram must match. */
function percentile(values: ArrayLike<number>, p: number): number {
  const s = Float64Array.from(values).sort();
  const r = (p / 100) * (s.length - 1);
  const k = Math.floor(r);
  return k + 1 < s.length ? s[k] + (r - k) * (s[k + 1] - s[k]) : s[k];
}

describe('samplePercentiles', () => {
  const rng = new Rng(11);
  const cases: [string, Uint8Array | Uint16Array | Float32Array][] = [
    ['8-bit uniform', new Uint8Array(1001).map(() => rng.int(256))],
    ['16-bit skewed', new Uint16Array(4999).map(() => Math.floor(rng.next() ** 4 * 65536))],
    ['12-bit in 16-bit', new Uint16Array(3000).map(() => 100 + rng.int(3900))],
    ['18 grey levels', new Uint8Array(2000).map(() => 10 * rng.int(18))],
    ['tiny', Uint8Array.from([7, 3])],
  ];
  for (const [name, data] of cases) {
    it(`${name}: equals the sorted reference exactly`, () => {
      for (const [lo, hi] of [
        [0.5, 99.5],
        [0, 100],
        [2, 98],
        [37.3, 50],
      ]) {
        const got = samplePercentiles(data, lo, hi);
        expect(got.low).toBeCloseTo(percentile(data, lo), 9);
        expect(got.high).toBeCloseTo(percentile(data, hi), 9);
      }
    });
  }

  it('float data: within one histogram bin of the reference', () => {
    const data = new Float32Array(5000).map(() => rng.normal() * 3 + 100);
    const span = Math.max(...data) - Math.min(...data);
    const got = samplePercentiles(data, 0.5, 99.5);
    expect(Math.abs(got.low - percentile(data, 0.5))).toBeLessThan(span / 65535);
    expect(Math.abs(got.high - percentile(data, 99.5))).toBeLessThan(span / 65535);
  });
});

describe('stretchRange / applyStretch', () => {
  it('maps the percentiles to 0 and 255 and clamps outside', () => {
    const data = new Uint16Array(1000).map((_, i) => i * 4);
    const range = stretchRange(data, { low: 10, high: 90 });
    const out = applyStretch(data, range);
    const lo = percentile(data, 10);
    const hi = percentile(data, 90);
    expect(range).toEqual({ low: lo, high: hi });
    expect(out[0]).toBe(0);
    expect(out[999]).toBe(255);
    expect(out[500]).toBeCloseTo(((2000 - lo) / (hi - lo)) * 255, 3);
  });

  it('nearly empty field (percentiles coincide) falls back to min–max so sparse particles stay visible', () => {
    const data = new Uint8Array(10_000).fill(20);
    data[5] = 200; // 0.02 % of the pixels: above the 99.5th percentile
    const range = stretchRange(data, { low: 0.5, high: 99.5 });
    expect(range).toEqual({ low: 20, high: 200 });
    const out = applyStretch(data, range);
    expect(out[5]).toBe(255);
    expect(out[0]).toBe(0);
  });

  it('constant image: zeros, finite', () => {
    const data = new Uint8Array(50).fill(9);
    const out = applyStretch(data, stretchRange(data, { low: 0.5, high: 99.5 }));
    expect(out.every((v) => v === 0)).toBe(true);
  });

  it("'none' uses the container scale", () => {
    expect(stretchRange(new Uint8Array([1, 2]), 'none')).toEqual({ low: 0, high: 255 });
    expect(stretchRange(new Uint16Array([1, 2]), 'none')).toEqual({ low: 0, high: 65535 });
    expect(applyStretch(new Uint16Array([65535, 257]), stretchRange(new Uint16Array(1), 'none'))).toEqual(Float32Array.from([255, 1]));
  });

  it('rejects bad percentiles', () => {
    expect(() => validateStretch({ low: 99, high: 1 }, 'f.png')).toThrow(/f\.png.*low < high/);
    expect(() => validateStretch({ low: -1, high: 50 }, 'f.png')).toThrow(/0 ≤ low/);
    expect(() => validateStretch({ low: 1, high: Number.NaN }, 'f.png')).toThrow();
    expect(() => validateStretch('none', 'f.png')).not.toThrow();
  });
});
