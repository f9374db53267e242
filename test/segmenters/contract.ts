import { describe, expect, it } from 'vitest';
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

    it('has a knob space whose defaults resolve and round-trip through the normalised box', async () => {
      const segmenter = await create();
      const defaults = segmenter.knobs.defaults();
      expect(segmenter.knobs.resolve({})).toEqual(defaults);
      const back = segmenter.knobs.fromNormalised(segmenter.knobs.toNormalised(defaults));
      for (const spec of segmenter.knobs.specs) {
        if (typeof defaults[spec.name] === 'number') expect(back[spec.name] as number).toBeCloseTo(defaults[spec.name] as number, 6);
        else expect(back[spec.name]).toBe(defaults[spec.name]);
      }
      for (const spec of segmenter.knobs.specs) expect(['encode', 'propose', 'filter']).toContain(spec.stage);
      await segmenter.dispose();
    });

    it('returns well-formed records that find the particles, deterministically', async () => {
      const segmenter = await create();
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
      await segmenter.dispose();
    });

    it('rejects an unknown knob by name', async () => {
      const segmenter = await create();
      const error = await segmenter.segment(synth.frame, { ...knobs, no_such_knob: 1 }).catch((e: unknown) => e);
      expect(isSamstarError(error) && error.code).toBe('KNOB_UNKNOWN');
      expect(String((error as Error).message)).toContain('no_such_knob');
      await segmenter.dispose();
    });
  });
}
