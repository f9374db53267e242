import { describe, expect, it } from 'vitest';
import {
  frameOptionsAt,
  parseSynthFrameOptions,
  parseSynthSeriesOptions,
  requestedCount,
} from '../../src/data/synth-options.js';
import { SamstarError } from '../../src/util/errors.js';

function errorOf(f: () => unknown): SamstarError {
  try {
    f();
  } catch (e) {
    if (e instanceof SamstarError) return e;
    throw e;
  }
  throw new Error('expected a SamstarError');
}

describe('synth options', () => {
  it('fills sensible defaults from {}', () => {
    const o = parseSynthFrameOptions({});
    expect([o.width, o.height, o.bitDepth, o.polarity]).toEqual([512, 512, 8, 'bright']);
    expect(o.diameter.median).toBeGreaterThan(0);
    expect(o.noise.photons).toBeGreaterThan(0);
    expect(requestedCount(o)).toBeGreaterThan(0);
    expect(requestedCount(parseSynthFrameOptions({ width: 200, height: 100, density: 3 }))).toBe(6);
    expect(requestedCount(parseSynthFrameOptions({ count: 7 }))).toBe(7);
  });

  it('names the option, the value and what was expected', () => {
    const e = errorOf(() => parseSynthFrameOptions({ diameter: { median: -2 } }));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toMatch(/diameter\.median: .*\(found -2\)/);
    expect(e.message).toMatch(/>0/);
    expect(errorOf(() => parseSynthFrameOptions({ polarity: 'grey' })).message).toMatch(/polarity: .*bright.*dark.*\(found "grey"\)/);
    expect(errorOf(() => parseSynthFrameOptions({ bitDepth: 12 })).message).toMatch(/bitDepth: .*\(found 12\)/);
  });

  it('suggests the nearest name for an unknown option, also nested', () => {
    const e = errorOf(() => parseSynthFrameOptions({ diamter: 5 }));
    expect(e.message).toContain('"diamter"');
    expect(e.hint).toContain('did you mean "diameter"');
    const nested = errorOf(() => parseSynthFrameOptions({ noise: { photon: 3 } }));
    expect(nested.message).toContain('noise.photon: unknown key "photon"');
    expect(nested.hint).toContain('"photons"');
    // frames/drift belong to series, not to a single frame.
    expect(errorOf(() => parseSynthFrameOptions({ frames: 3 })).message).toContain('"frames"');
  });

  it('rejects contradictions: count with density, full scale above the bit depth, low > high', () => {
    expect(errorOf(() => parseSynthFrameOptions({ count: 3, density: 1 })).message).toMatch(/count.*density/);
    expect(errorOf(() => parseSynthFrameOptions({ fullScale: 4095 })).message).toMatch(/fullScale.*8-bit/);
    expect(() => parseSynthFrameOptions({ bitDepth: 16, fullScale: 4095 })).not.toThrow();
    expect(errorOf(() => parseSynthFrameOptions({ elongation: { aspect: [3, 2] } })).message).toContain('elongation.aspect');
    expect(errorOf(() => parseSynthFrameOptions({ bodies: { count: 1, size: [0.7, 0.3] } })).message).toContain('bodies.size');
    expect(errorOf(() => parseSynthFrameOptions({ bodies: { count: -1 } })).message).toContain('bodies.count');
  });

  it('drift: linear from start to end; sine with 2 cycles goes there and back', () => {
    const linear = parseSynthSeriesOptions({ frames: 5, diameter: { median: 10 }, contrast: 0.6, drift: { diameter: 30, contrast: 0.2 } });
    const medians = [0, 1, 2, 3, 4].map((i) => frameOptionsAt(linear, i).diameter.median);
    expect(medians).toEqual([10, 15, 20, 25, 30]);
    expect(frameOptionsAt(linear, 4).contrast).toBeCloseTo(0.2, 12);
    expect(frameOptionsAt(linear, 2).contrast).toBeCloseTo(0.4, 12);
    expect('frames' in frameOptionsAt(linear, 0)).toBe(false);

    const sine = parseSynthSeriesOptions({ frames: 5, diameter: { median: 10 }, drift: { diameter: 30, profile: 'sine', cycles: 2 } });
    const s = [0, 1, 2, 3, 4].map((i) => frameOptionsAt(sine, i).diameter.median);
    expect(s[0]).toBeCloseTo(10, 9);
    expect(s[2]).toBeCloseTo(30, 9);
    expect(s[4]).toBeCloseTo(10, 9);
    expect(s[1]).toBeCloseTo(20, 9);
  });

  it('drift.count: the particle count goes from count to drift.count, rounded per frame (ripening); needs count', () => {
    const ripening = parseSynthSeriesOptions({ frames: 4, count: 40, diameter: { median: 6 }, drift: { count: 10, diameter: 24 } });
    expect([0, 1, 2, 3].map((i) => frameOptionsAt(ripening, i).count)).toEqual([40, 30, 20, 10]);
    expect(frameOptionsAt(parseSynthSeriesOptions({ frames: 3, count: 5, drift: { count: 6 } }), 1).count).toBe(6);
    expect(errorOf(() => parseSynthSeriesOptions({ frames: 3, density: 20, drift: { count: 6 } })).message).toMatch(/drift\.count.*needs a starting "count".*density/);
  });
});
