import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSynthFrame } from '../../src/data/synth.js';
import { decodeRle, rleArea } from '../../src/masks/rle.js';
import type { KnobValues } from '../../src/segmenters/knobs.js';
import type { Segmenter } from '../../src/segmenters/types.js';
import { isSamstarError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

/**
 * What every segmenter must do, whatever it is inside: valid knob space,
 * well-formed SAM-style records (RLE, area, XYWH box with w = x1 − x0, prompt
 * point), determinism, clear errors for unknown knobs, finds particles.
 */
export function describeSegmenterContract(name: string, create: () => Promise<Segmenter>, knobs: KnobValues = {}): void {
  describe(`segmenter contract: ${name}`, () => {
    const synth = generateSynthFrame({ width: 200, height: 160, count: 10, diameter: { median: 16, sigma: 0.15 } }, new Rng(77), `contract-${name}`);
    // One segmenter for the checks (loading a model per check would cost more than the checks); dispose has its own.
    let shared: Segmenter;
    beforeAll(async () => {
      shared = await create();
    });
    afterAll(async () => {
      await shared?.dispose();
    });

    it('has a knob space whose defaults resolve and round-trip through the normalised box', async () => {
      const segmenter = shared;
      const defaults = segmenter.knobs.defaults();
      expect(segmenter.knobs.resolve({})).toEqual(defaults);
      const back = segmenter.knobs.fromNormalised(segmenter.knobs.toNormalised(defaults));
      for (const spec of segmenter.knobs.specs) {
        if (typeof defaults[spec.name] === 'number') expect(back[spec.name] as number).toBeCloseTo(defaults[spec.name] as number, 6);
        else expect(back[spec.name]).toBe(defaults[spec.name]);
      }
      for (const spec of segmenter.knobs.specs) expect(['encode', 'propose', 'filter']).toContain(spec.stage);
    });

    it('returns well-formed records that find the particles, deterministically', async () => {
      const segmenter = shared;
      const a = await segmenter.segment(synth.frame, knobs);
      const b = await segmenter.segment(synth.frame, knobs);
      expect(JSON.stringify(a.instances)).toBe(JSON.stringify(b.instances));
      expect(a.width).toBe(200);
      expect(a.height).toBe(160);
      expect(a.instances.length).toBeGreaterThanOrEqual(synth.particles.length / 2);
      for (const inst of a.instances) {
        expect(inst.segmentation.size).toEqual([160, 200]);
        expect(inst.area).toBe(rleArea(inst.segmentation));
        const mask = decodeRle(inst.segmentation);
        let x0 = Infinity;
        let y0 = Infinity;
        let x1 = -1;
        let y1 = -1;
        mask.data.forEach((v, p) => {
          if (!v) return;
          const x = p % 200;
          const y = Math.floor(p / 200);
          x0 = Math.min(x0, x);
          y0 = Math.min(y0, y);
          x1 = Math.max(x1, x);
          y1 = Math.max(y1, y);
        });
        expect(inst.bbox).toEqual([x0, y0, x1 - x0, y1 - y0]);
        const [px, py] = inst.point_coords[0];
        expect(px).toBeGreaterThanOrEqual(0);
        expect(px).toBeLessThanOrEqual(200);
        expect(py).toBeGreaterThanOrEqual(0);
        expect(py).toBeLessThanOrEqual(160);
        expect(inst.predicted_iou).toBeGreaterThanOrEqual(0);
        expect(inst.predicted_iou).toBeLessThanOrEqual(1);
      }
      expect(a.knobs).toEqual(segmenter.knobs.resolve(knobs));
    });

    it('rejects an unknown knob by name', async () => {
      const segmenter = shared;
      const error = await segmenter.segment(synth.frame, { ...knobs, no_such_knob: 1 }).catch((e: unknown) => e);
      expect(isSamstarError(error) && error.code).toBe('KNOB_UNKNOWN');
      expect(String((error as Error).message)).toContain('no_such_knob');
    });

    it('rejects a bad value of every knob, naming the knob', async () => {
      const segmenter = shared;
      for (const spec of segmenter.knobs.specs) {
        const bad = spec.kind === 'choice' ? 'no-such-choice' : spec.max + Math.max(1, Math.abs(spec.max));
        const error = await segmenter.segment(synth.frame, { ...knobs, [spec.name]: bad }).catch((e: unknown) => e);
        expect(isSamstarError(error) && ['KNOB_INVALID', 'KNOB_OUT_OF_RANGE'].includes(error.code), `${spec.name} = ${bad}`).toBe(true);
        expect(String((error as Error).message)).toContain(spec.name);
        if (spec.kind !== 'choice') {
          const notNumber = await segmenter.segment(synth.frame, { ...knobs, [spec.name]: 'x' }).catch((e: unknown) => e);
          expect(isSamstarError(notNumber) && notNumber.code, spec.name).toBe('KNOB_INVALID');
        }
      }
    });

    it('gives the same answer for the same knobs after other knobs (whatever it caches)', async () => {
      const segmenter = shared;
      const first = await segmenter.segment(synth.frame, knobs);
      // Another setting in between (other cache keys), then the first again: the same instances.
      const other: KnobValues = { ...knobs };
      const moved = segmenter.knobs.specs.find((s) => s.kind !== 'choice' && !(s.name in knobs));
      if (moved && moved.kind !== 'choice') other[moved.name] = moved.max;
      await segmenter.segment(synth.frame, other);
      const again = await segmenter.segment(synth.frame, knobs);
      expect(JSON.stringify(again.instances)).toBe(JSON.stringify(first.instances));
      expect(again.knobs).toEqual(first.knobs);
    });

    it('has a knob space whose search box is [−1, 1]^d with grid steps inside it', async () => {
      const segmenter = shared;
      const bounds = segmenter.knobs.searchBounds();
      const d = segmenter.knobs.dimension;
      expect(bounds.low).toEqual(Array(d).fill(-1));
      expect(bounds.high).toEqual(Array(d).fill(1));
      expect(bounds.steps).toHaveLength(d);
      segmenter.knobs.specs.forEach((spec, i) => {
        const step = bounds.steps[i];
        expect(step, spec.name).toBeGreaterThanOrEqual(0);
        expect(step, spec.name).toBeLessThanOrEqual(2);
        // Discrete knobs have a grid; continuous and log knobs none.
        if (spec.kind === 'int' || spec.kind === 'choice') expect(step > 0, spec.name).toBe(spec.kind === 'int' ? spec.max > spec.min : spec.choices.length > 1);
        if (spec.kind === 'log') expect(step, spec.name).toBe(0);
      });
      // Every corner and the centre of the box map to valid knob values.
      for (const corner of [bounds.low, bounds.high, Array(d).fill(0)]) {
        const values = segmenter.knobs.fromNormalised(corner);
        expect(segmenter.knobs.resolve(values)).toEqual(values);
      }
    });

    it('disposes, and a second dispose is harmless', async () => {
      const segmenter = await create();
      await expect(segmenter.dispose()).resolves.toBeUndefined();
      await expect(segmenter.dispose()).resolves.toBeUndefined();
    });
  });
}
