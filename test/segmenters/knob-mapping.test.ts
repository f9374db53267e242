import { describe, expect, it } from 'vitest';
import { KnobMapping } from '../../src/segmenters/knob-mapping.js';
import { KnobSpace, type KnobSpec } from '../../src/segmenters/knobs.js';
import { samKnobSpace } from '../../src/segmenters/sam/knob-specs.js';
import { isSamstarError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

const full = samKnobSpace();
const narrowed = (name: string, min: number, max: number): KnobSpec => ({ ...full.spec(name), min, max }) as KnobSpec;
const tuned = new KnobSpace([narrowed('pred_iou_thresh', 0.3, 0.98), full.spec('mask_threshold'), full.spec('points_per_side'), full.spec('prompts')]);

describe('KnobMapping: the one map from a point to knobs', () => {
  it('gives the full knob vector of fixed ∪ tuned ∪ defaults, as the runner, the envs and policies did each on their own', () => {
    const mapping = new KnobMapping(full, tuned, { box_nms_thresh: 0.5 });
    const rng = new Rng(4);
    for (let k = 0; k < 50; k++) {
      const x = Array.from({ length: tuned.dimension }, () => rng.uniform(-1.3, 1.3));
      const knobs = mapping.knobsOf(x);
      // The formula train.ts, TuneEnv, AdjustEnv, StreamEnv and Policy.choose each wrote before.
      expect(knobs).toEqual(full.resolve({ box_nms_thresh: 0.5, ...tuned.fromNormalised(x) }));
      expect(mapping.resolve(knobs)).toEqual(knobs);
      expect(mapping.tunedOf(knobs)).toEqual(tuned.fromNormalised(x));
      expect(Number(knobs.pred_iou_thresh)).toBeGreaterThanOrEqual(0.3);
      expect(Number(knobs.pred_iou_thresh)).toBeLessThanOrEqual(0.98);
      expect(Number.isInteger(knobs.points_per_side)).toBe(true);
    }
    expect(mapping.defaults()).toEqual({ ...full.defaults(), box_nms_thresh: 0.5 });
    expect(mapping.dimension).toBe(4);
  });

  it('refuses a tuned space that is not the segmenter\'s, a knob both tuned and fixed, and a bad fixed value', () => {
    const code = (make: () => unknown): string | undefined => {
      try {
        make();
      } catch (error) {
        return isSamstarError(error) ? `${error.code}: ${error.message}` : String(error);
      }
      return undefined;
    };
    expect(code(() => new KnobMapping(full, new KnobSpace([narrowed('pred_iou_thresh', 0, 2)]), {}, 'test'))).toMatch(/^KNOB_OUT_OF_RANGE: test: tuned range \[0, 2\] of knob "pred_iou_thresh" exceeds/);
    expect(code(() => new KnobMapping(full, tuned, { pred_iou_thresh: 0.5 }))).toMatch(/^ARGUMENT_INVALID: .*"pred_iou_thresh" is both tuned and fixed/);
    expect(code(() => new KnobMapping(full, new KnobSpace([{ ...full.spec('prompts'), choices: ['grid', 'spiral'] } as KnobSpec])))).toMatch(/^KNOB_INVALID: .*choices spiral/);
    expect(code(() => new KnobMapping(full, new KnobSpace([{ name: 'no_such', kind: 'float', min: 0, max: 1, default: 0, stage: 'filter', description: '' }])))).toMatch(/^KNOB_UNKNOWN/);
    expect(code(() => new KnobMapping(full, tuned, { box_nms_thresh: 3 }))).toMatch(/^KNOB_OUT_OF_RANGE: .*box_nms_thresh/);
  });
});
