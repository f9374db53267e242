import { describe, expect, it } from 'vitest';
import { Box, Dict, Discrete, explainSpace, spaceFromJSON } from '../../envs/spaces.js';
import { isSamstarError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

describe('Box', () => {
  it('contains checks shape, finiteness and bounds; accepts arrays and typed arrays', () => {
    const box = new Box([-1, 0], [1, 10]);
    expect(box.shape).toEqual([2]);
    expect(box.contains([0, 5])).toBe(true);
    expect(box.contains(Float64Array.of(-1, 10))).toBe(true);
    expect(box.contains(Float32Array.of(0.5, 0))).toBe(true);
    expect(box.contains([0, 5, 1])).toBe(false);
    expect(box.contains([0])).toBe(false);
    expect(box.contains([1.0001, 5])).toBe(false);
    expect(box.contains([0, -0.1])).toBe(false);
    expect(box.contains([NaN, 5])).toBe(false);
    expect(box.contains([0, Infinity])).toBe(false);
    expect(box.contains(['0', 5])).toBe(false);
    expect(box.contains(3)).toBe(false);
    expect(box.contains(null)).toBe(false);
    expect(box.contains({ 0: 0, 1: 1, length: 2 })).toBe(false);
    expect(explainSpace(box, [0, 11])).toContain('entry 1');
    // Scalar bounds broadcast over a shape (flat, row-major).
    const grid = new Box(0, 1, [2, 3]);
    expect(grid.size).toBe(6);
    expect(grid.contains(new Float64Array(6).fill(0.5))).toBe(true);
    expect(grid.contains(new Float64Array(5))).toBe(false);
    // Unbounded ends accept any finite value.
    expect(new Box(-Infinity, Infinity, [1]).contains([1e300])).toBe(true);
    expect(new Box(-Infinity, Infinity, [1]).contains([Infinity])).toBe(false);
  });

  it('samples uniformly inside, deterministically from the Rng, and handles unbounded ends', () => {
    const box = new Box([-1, 5, 0], [1, 5, 100]);
    const a = box.sample(new Rng(1));
    expect(a).toBeInstanceOf(Float64Array);
    expect(Array.from(box.sample(new Rng(1)))).toEqual(Array.from(a));
    const rng = new Rng(2);
    let mean = 0;
    for (let i = 0; i < 2000; i++) {
      const s = box.sample(rng);
      expect(box.contains(s)).toBe(true);
      expect(s[1]).toBe(5);
      mean += s[2] / 2000;
    }
    expect(mean).toBeGreaterThan(45);
    expect(mean).toBeLessThan(55);
    const open = new Box([-Infinity, 0, -Infinity], [Infinity, Infinity, 3]);
    for (let i = 0; i < 200; i++) {
      const s = open.sample(rng);
      expect(open.contains(s)).toBe(true);
    }
  });

  it('round-trips through JSON, infinities and names included', () => {
    const box = new Box([-1, -Infinity], [1, Infinity], undefined, { names: ['a', 'b'] });
    const json = JSON.parse(JSON.stringify(box.toJSON()));
    expect(json).toEqual({ type: 'box', shape: [2], low: [-1, '-inf'], high: [1, 'inf'], names: ['a', 'b'] });
    const back = spaceFromJSON(json) as Box;
    expect(back).toBeInstanceOf(Box);
    expect(back.toJSON()).toEqual(box.toJSON());
    expect(back.contains([0, -1e9])).toBe(true);
  });

  it('rejects bad definitions', () => {
    expect(() => new Box([1], [0])).toThrow(/low 1 > high 0/);
    expect(() => new Box([0, 0], [1])).toThrow(/high has 1 entries/);
    expect(() => new Box(0, 1)).toThrow(/shape/);
    expect(() => new Box([0], [1], undefined, { names: ['a', 'b'] })).toThrow(/names/);
  });
});

describe('Discrete and Dict', () => {
  it('Discrete holds start … start + n − 1', () => {
    const d = new Discrete(3, -1);
    expect([-1, 0, 1].every((v) => d.contains(v))).toBe(true);
    expect(d.contains(2)).toBe(false);
    expect(d.contains(0.5)).toBe(false);
    expect(d.contains('0')).toBe(false);
    const rng = new Rng(3);
    const seen = new Set<number>();
    for (let i = 0; i < 100; i++) seen.add(d.sample(rng));
    expect([...seen].sort()).toEqual([-1, 0, 1]);
    expect(spaceFromJSON(JSON.parse(JSON.stringify(d.toJSON()))).toJSON()).toEqual({ type: 'discrete', n: 3, start: -1 });
    expect(() => new Discrete(0)).toThrow();
  });

  it('Dict wants exactly its keys, each in its space; sorted keys, JSON round trip', () => {
    const dict = new Dict({ zeta: new Discrete(2), alpha: new Box([0], [1]) });
    expect(dict.keys).toEqual(['alpha', 'zeta']);
    expect(dict.contains({ alpha: [0.5], zeta: 1 })).toBe(true);
    expect(dict.contains({ alpha: [0.5] })).toBe(false);
    expect(dict.contains({ alpha: [0.5], zeta: 1, extra: 0 })).toBe(false);
    expect(dict.contains({ alpha: [2], zeta: 1 })).toBe(false);
    expect(explainSpace(dict, { alpha: [2], zeta: 1 })).toContain('"alpha"');
    expect(dict.contains([0.5, 1])).toBe(false);
    const s = dict.sample(new Rng(4));
    expect(dict.contains(s)).toBe(true);
    expect(Object.keys(s)).toEqual(['alpha', 'zeta']);
    const same = new Dict({ alpha: new Box([0], [1]), zeta: new Discrete(2) });
    expect(JSON.stringify(same.sample(new Rng(4)))).toEqual(JSON.stringify(s));
    const json = JSON.parse(JSON.stringify(dict.toJSON()));
    expect(spaceFromJSON(json).toJSON()).toEqual(dict.toJSON());
  });

  it('spaceFromJSON names the path of a bad field', () => {
    const bad = (json: unknown): unknown => {
      try {
        spaceFromJSON(json, 'policy.observation_space');
      } catch (e) {
        return e;
      }
      return undefined;
    };
    const e1 = bad({ type: 'cube' });
    expect(isSamstarError(e1) && e1.code).toBe('CONFIG_INVALID');
    expect(String((e1 as Error).message)).toContain('unknown space type');
    const e2 = bad({ type: 'dict', spaces: { a: { type: 'box', shape: [1], low: ['x'], high: [1] } } });
    expect(String((e2 as Error).message)).toContain('policy.observation_space.spaces.a.low[0]');
  });
});
