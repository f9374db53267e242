import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generateSynthFrame } from '../../src/data/synth.js';
import type { LabelImage } from '../../src/masks/types.js';
import { parseYoloBoxes } from '../../src/measure/boxes.js';
import type { Segmentation } from '../../src/segmenters/types.js';
import { Rng } from '../../src/util/rng.js';
import { compileReward, evaluateReward } from '../../rewards/composite.js';
import { loadRewardConfig, parseRewardConfig } from '../../rewards/config.js';
import { addBackgroundMask, mergeNeighbours } from './perturb.js';
import { thrown } from '../fixtures/thrown.js';

const CONFIGS = join(dirname(fileURLToPath(import.meta.url)), '../../configs/rewards');

const synth = generateSynthFrame(
  { width: 256, height: 256, count: 30, diameter: { median: 14, sigma: 0.2, min: 6 }, elongation: { fraction: 0 }, shading: 'dome' },
  new Rng(5),
);
const { frame, labels } = synth;

const base = {
  terms: {
    size: { type: 'size', target: { distribution: 'lognormal', median: 14, sigma: 0.2 } },
    shape: { type: 'shape', circularity: { min: 0.85 }, solidity: { min: 0.9 } },
    overlap: { type: 'overlap' },
  },
  total: '0.5*size + 0.3*shape - 0.2*overlap',
};


const emptySegmentation: Segmentation = { width: 256, height: 256, instances: [], knobs: {}, timings: {} };

describe('composite reward', () => {
  it('evaluates terms and the total expression', () => {
    const reward = compileReward(base);
    const r = evaluateReward(reward, labels, { frame });
    expect(Object.keys(r.terms)).toEqual(['size', 'shape', 'overlap']);
    expect(r.total).toBeCloseTo(0.5 * r.terms.size + 0.3 * r.terms.shape - 0.2 * r.terms.overlap, 12);
    expect(r.terms.size).toBeGreaterThan(0.7);
    expect(r.objectives).toBeUndefined();
  });

  it('returns the objective vector when asked, and the term type defaults to the name', () => {
    const reward = compileReward({ ...base, terms: { ...base.terms, overlap: null }, objectives: ['size', 'shape - overlap'] });
    const r = evaluateReward(reward, labels, { frame });
    expect(r.objectives).toEqual([r.terms.size, r.terms.shape - r.terms.overlap]);
  });

  it('without total, the total is the mean of the objectives', () => {
    const { total: _total, ...rest } = base;
    const r = evaluateReward(compileReward({ ...rest, objectives: ['size', 'shape'] }), labels, { frame });
    expect(r.total).toBeCloseTo((r.terms.size + r.terms.shape) / 2, 12);
  });

  it('an empty segmentation is valid and scores the worst on every term', () => {
    const reward = compileReward(base);
    const r = evaluateReward(reward, emptySegmentation, { frame });
    expect(r.terms).toEqual({ size: 0, shape: 0, overlap: 1 });
    expect(r.total).toBeCloseTo(-0.2, 12);
    expect(r.total).toBeLessThan(evaluateReward(reward, mergeNeighbours(labels), { frame }).total);
  });

  it('the true labels beat merged and background-polluted ones under a composite', () => {
    const reward = compileReward({
      terms: { ...base.terms, edge: {}, border: {} },
      total: '0.3*size + 0.3*shape + 0.4*edge - 0.2*overlap - 0.2*border',
    });
    const good = evaluateReward(reward, labels, { frame }).total;
    expect(good).toBeGreaterThan(evaluateReward(reward, mergeNeighbours(labels), { frame }).total + 0.05);
    expect(good).toBeGreaterThan(evaluateReward(reward, addBackgroundMask(labels), { frame }).total + 0.05);
  });
});

describe('composite expression checks', () => {
  it('rejects an unknown term name with a suggestion', () => {
    const e = thrown(() => compileReward({ ...base, total: '0.5*size + 0.3*shap - 0.2*overlap' }));
    expect(e.code).toBe('EXPRESSION_INVALID');
    expect(e.message).toContain('"shap"');
    expect(e.hint).toContain('did you mean "shape"');
  });

  it('rejects an expression that does not parse', () => {
    const e = thrown(() => compileReward({ ...base, total: '0.5*size +' }));
    expect(e.code).toBe('EXPRESSION_INVALID');
    expect(e.message).toMatch(/cannot parse "0\.5\*size \+"/);
  });

  it('rejects unknown functions and assignments', () => {
    expect(thrown(() => compileReward({ ...base, total: 'maxx(size, shape)' })).hint).toContain('did you mean "max"');
    expect(thrown(() => compileReward({ ...base, total: 'size = 3' })).message).toContain('assignment');
    // Allowed functions work.
    const r = evaluateReward(compileReward({ ...base, total: 'max(size, shape) - abs(overlap)' }), labels, { frame });
    expect(r.total).toBeCloseTo(Math.max(r.terms.size, r.terms.shape) - r.terms.overlap, 12);
  });

  it('an objective with an unknown name is reported with its index', () => {
    const e = thrown(() => compileReward({ ...base, objectives: ['size', 'sizee'] }));
    expect(e.message).toContain('objectives[1]');
  });

  it('a non-finite total is an error, not a NaN reward', () => {
    const reward = compileReward({ ...base, total: 'log(overlap)' });
    const e = thrown(() => evaluateReward(reward, labels, { frame }));
    expect(e.code).toBe('EXPRESSION_INVALID');
    expect(e.message).toContain('-Infinity');
  });
});

describe('config validation', () => {
  it('unknown key: names the path and suggests the nearest key', () => {
    const e = thrown(() => parseRewardConfig({ ...base, terms: { ...base.terms, size: { ...base.terms.size, tolerence: 0.3 } } }, 'x.yaml'));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain('x.yaml');
    expect(e.message).toContain('terms.size.tolerence: unknown key');
    expect(e.hint).toContain('did you mean "tolerance"');
  });

  it('unknown nested key inside the target distribution', () => {
    const e = thrown(() =>
      parseRewardConfig({ ...base, terms: { size: { target: { distribution: 'lognormal', median: 14, sigm: 0.2 } } } }),
    );
    expect(e.message).toContain('terms.size.target.sigm: unknown key');
    expect(e.hint).toContain('did you mean "sigma"');
  });

  it('unknown top-level key and unknown term type', () => {
    expect(thrown(() => parseRewardConfig({ ...base, totl: 'size' })).hint).toContain('did you mean "total"');
    const e = thrown(() => parseRewardConfig({ ...base, terms: { s: { type: 'sise', target: {} } } }));
    expect(e.message).toContain('terms.s.type: unknown term type "sise"');
    expect(e.hint).toContain('did you mean "size"');
  });

  it('NaN is refused with the field named', () => {
    const e = thrown(() => parseRewardConfig({ ...base, terms: { size: { target: { distribution: 'lognormal', median: NaN, sigma: 0.2 } } } }));
    expect(e.message).toContain('terms.size.target.median');
    expect(e.message).toContain('NaN');
  });

  it('a distribution with a non-positive spread is refused', () => {
    for (const target of [
      { distribution: 'lognormal', median: 14, sigma: 0 },
      { distribution: 'normal', mean: 14, sd: -1 },
    ]) {
      const e = thrown(() => parseRewardConfig({ ...base, terms: { size: { target } } }));
      expect(e.message).toMatch(/terms\.size\.target\.(sigma|sd): spread must be > 0/);
    }
  });

  it('a histogram target is checked', () => {
    const e = thrown(() =>
      parseRewardConfig({ ...base, terms: { size: { target: { distribution: 'histogram', edges: [0, 5, 4], weights: [1] } } } }),
    );
    expect(e.message).toContain('terms.size.target.weights');
    expect(e.message).toContain('terms.size.target.edges.2');
  });

  it('nm units need a pixel size', () => {
    const e = thrown(() => parseRewardConfig({ ...base, terms: { size: { target: { distribution: 'normal', mean: 5, sd: 1 }, unit: 'nm' } } }));
    expect(e.message).toContain('terms.size.pixel_size');
  });

  it('YAML that is not YAML, or a missing file, is a clear error', async () => {
    await expect(loadRewardConfig(join(CONFIGS, 'no-such.yaml'))).rejects.toThrow(/cannot read reward config/);
  });
});

describe('inputs a term needs', () => {
  it('an image term without an image, a label term without truth', () => {
    expect(thrown(() => evaluateReward(compileReward({ terms: { edge: {} }, total: 'edge' }), labels)).message).toContain('needs the image');
    const e = thrown(() => evaluateReward(compileReward({ terms: { msa: {} }, total: 'msa' }), labels));
    expect(e.message).toContain('needs ground truth instance labels');
    const boxes = parseYoloBoxes('0 0.5 0.5 0.1 0.1\n', 256, 256);
    expect(thrown(() => evaluateReward(compileReward({ terms: { msa: {} }, total: 'msa' }), labels, { truth: boxes })).message).toContain(
      'got boxes',
    );
  });

  it('a frame of the wrong size is a SIZE_MISMATCH', () => {
    const small: LabelImage = { width: 10, height: 10, data: new Uint32Array(100) };
    expect(thrown(() => evaluateReward(compileReward({ terms: { edge: {} }, total: 'edge' }), small, { frame })).code).toBe('SIZE_MISMATCH');
  });
});

describe('ready configs', () => {
  const files = readdirSync(CONFIGS).filter((f) => f.endsWith('.yaml'));

  it('are there', () => {
    for (const name of ['nanoparticles.yaml', 'nuclei.yaml', 'rods.yaml', 'supervised.yaml']) expect(files).toContain(name);
  });

  for (const file of files) {
    it(`${file} loads, and the true labels beat an empty segmentation`, async () => {
      const reward = compileReward(await loadRewardConfig(join(CONFIGS, file)));
      const truth = reward.needsTruth === null ? undefined : file.includes('boxes') ? boxesOf(labels) : labels;
      const good = evaluateReward(reward, labels, { frame, truth });
      const empty = evaluateReward(reward, emptySegmentation, { frame, truth });
      expect(good.total).toBeGreaterThan(empty.total);
      for (const value of Object.values(good.terms)) expect(Number.isFinite(value)).toBe(true);
    });
  }
});

describe('nanoparticles.yaml at any magnification', () => {
  // The same kind of field at 8 px and at 40 px per particle: the size term follows each frame's
  // median, so the true labels score alike on size, and beat half of the particles dropped or a
  // background mask added at both scales (coverage and border see those).
  const field = (diameter: number, seed: number) =>
    generateSynthFrame({ width: 30 * diameter, height: 30 * diameter, count: 50, diameter: { median: diameter, sigma: 0.15, min: 3 }, elongation: { fraction: 0 }, gap: 3, blur: 1, contrast: 0.6 }, new Rng(seed));
  const dropHalf = (label: LabelImage): LabelImage => ({ ...label, data: label.data.map((v) => (v % 2 === 0 ? v : 0)) });

  it('scores the size spread, not the scale', async () => {
    const reward = compileReward(await loadRewardConfig(join(CONFIGS, 'nanoparticles.yaml')));
    const sizes: number[] = [];
    for (const diameter of [8, 40]) {
      const { frame: f, labels: truth } = field(diameter, 21);
      const good = evaluateReward(reward, truth, { frame: f });
      sizes.push(good.terms.size);
      expect(good.terms.size, `size term at ${diameter} px`).toBeGreaterThan(0.6);
      for (const [name, spoiled] of [['half dropped', dropHalf(truth)], ['background mask', addBackgroundMask(truth)]] as const) {
        const worse = evaluateReward(reward, spoiled, { frame: f });
        expect(good.total - worse.total, `${diameter} px: truth ${good.total.toFixed(3)} vs ${name} ${worse.total.toFixed(3)}`).toBeGreaterThan(0.05);
      }
    }
    expect(Math.abs(sizes[0] - sizes[1])).toBeLessThan(0.15);
  });
});

/** YOLO boxes of each instance's bounding box (box truth made from labels). */
function boxesOf(label: LabelImage) {
  const boxes = new Map<number, [number, number, number, number]>();
  for (let p = 0; p < label.data.length; p++) {
    const v = label.data[p];
    if (!v) continue;
    const x = p % label.width, y = Math.floor(p / label.width);
    const b = boxes.get(v) ?? [x, y, x, y];
    boxes.set(v, [Math.min(b[0], x), Math.min(b[1], y), Math.max(b[2], x), Math.max(b[3], y)]);
  }
  const lines = [...boxes.values()].map(([x0, y0, x1, y1]) => {
    const w = (x1 + 1 - x0) / label.width, h = (y1 + 1 - y0) / label.height;
    return `0 ${(x0 / label.width + w / 2).toFixed(6)} ${(y0 / label.height + h / 2).toFixed(6)} ${w.toFixed(6)} ${h.toFixed(6)}`;
  });
  return parseYoloBoxes(lines.join('\n'), label.width, label.height);
}
