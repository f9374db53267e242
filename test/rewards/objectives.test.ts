import { describe, expect, it } from 'vitest';
import { generateSynthFrame } from '../../src/data/synth.js';
import { Rng } from '../../src/util/rng.js';
import { compileReward, evaluateReward } from '../../rewards/composite.js';
import { parseRewardConfig } from '../../rewards/config.js';
import { thrown } from '../fixtures/thrown.js';

/** Named objectives with directions and weights (multi-objective tuning). */
const terms = {
  coverage: { type: 'coverage' },
  overlap: { type: 'overlap' },
  shape: { type: 'shape', circularity: { min: 0.85 } },
};
const { frame, labels } = generateSynthFrame({ width: 128, height: 128, count: 12, diameter: { median: 12, sigma: 0.2 } }, new Rng(3));

describe('reward objectives', () => {
  it('reads the long form: names, expressions, directions (both spellings), weights', () => {
    const c = parseRewardConfig({
      terms,
      objectives: [
        { name: 'fit', expr: '0.5*coverage + 0.5*shape', direction: 'maximize', weight: 2 },
        { expr: 'overlap', direction: 'minimise', weight: 1 },
      ],
    });
    expect(c.objectives).toEqual([
      { name: 'fit', expr: '0.5*coverage + 0.5*shape', direction: 'maximise', weight: 2 },
      { name: 'overlap', expr: 'overlap', direction: 'minimise', weight: 1 },
    ]);
    // Plain strings: maximised, named after a term or by position.
    expect(parseRewardConfig({ terms, objectives: ['coverage', '1 - overlap'] }).objectives).toEqual([
      { name: 'coverage', expr: 'coverage', direction: 'maximise' },
      { name: 'objective_1', expr: '1 - overlap', direction: 'maximise' },
    ]);
  });

  it('without total, the total is the weighted mean of the objectives signed by direction', () => {
    const reward = compileReward({ terms, objectives: [{ expr: 'coverage', weight: 3 }, { expr: 'overlap', direction: 'minimise', weight: 1 }] });
    const r = evaluateReward(reward, labels, { frame });
    expect(r.objectives).toEqual([r.terms.coverage, r.terms.overlap]);
    expect(r.total).toBeCloseTo((3 * r.terms.coverage - r.terms.overlap) / 4, 12);
    // A config stored with a study (already parsed) compiles to the same reward.
    const again = evaluateReward(compileReward(reward.config), labels, { frame });
    expect(again).toEqual(r);
  });

  it('errors name the field', () => {
    const bad = (objectives: unknown): string => thrown(() => parseRewardConfig({ terms, objectives }, 'r.yaml')).message;
    expect(bad([{ expr: 'coverage', direction: 'up' }])).toContain('objectives.0.direction: Invalid option: expected one of "maximise"|"minimise"');
    expect(bad([{ expr: 'coverage', wieght: 1 }])).toContain('objectives.0.wieght: unknown key "wieght"');
    expect(bad([{ expr: 'coverage', weight: -1 }])).toContain('objectives.0.weight: must be ≥ 0 (found -1)');
    expect(bad([{ expr: 'coverage', weight: 1 }, { expr: 'overlap' }])).toContain('r.yaml: objectives.1.weight: missing');
    expect(bad([{ expr: 'coverage', weight: 0 }, { expr: 'overlap', weight: 0 }])).toContain('all weights are 0');
    expect(bad([{ name: 'a', expr: 'coverage' }, { name: 'a', expr: 'overlap' }])).toContain('objectives.1.name: "a" is also the name of objectives.0');
    expect(bad([{ name: 'not a name', expr: 'coverage' }])).toContain('objectives.0.name: must be an identifier');
    expect(thrown(() => compileReward({ terms, objectives: [{ expr: 'coverag' }] })).message).toContain('objectives[0]');
  });
});
