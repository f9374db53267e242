import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateSynthFrame } from '../../src/data/synth.js';
import { FEATURE_VERSION_V1, FEATURE_VERSION_V2, featureSpec, frameFeatures } from '../../src/image/features.js';
import { fitLookup, lookupX, POLICY_FILE, Policy, writeLookupPolicy } from '../../src/policy/index.js';
import { blobKnobSpace } from '../../src/segmenters/blobs/knob-specs.js';
import { KnobSpace } from '../../src/segmenters/knobs.js';
import { isSamstarError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

const blobs = blobKnobSpace();
const tuned = new KnobSpace([blobs.spec('blob_sigma_min'), blobs.spec('blob_polarity'), blobs.spec('blob_threshold')]);
const provenance = { agent: { name: 'per-frame', options: {} }, seed: 1, created: '2026-01-01T00:00:00.000Z' };

describe('lookup policy (per-frame optima + k nearest neighbours)', () => {
  it('returns an example exactly on its features, and a distance-weighted blend between examples', () => {
    const names = ['a', 'b'];
    const table = fitLookup({ featureNames: names, use: names, k: 2, rows: [
      { features: [0, 0], x: [-1, -1, -0.5] },
      { features: [10, 0], x: [1, 1, 0.5] },
      { features: [10, 10], x: [0, 1, 0] },
    ] });
    expect(lookupX(table, names, [10, 10], tuned)).toEqual([0, 1, 0]);
    // Halfway between the first two (equal distances): numeric knobs average, the choice knob takes one of the two.
    const mid = lookupX(table, names, [5, 0], tuned);
    expect(mid[0]).toBeCloseTo(0, 12);
    expect(mid[2]).toBeCloseTo(0, 12);
    expect([-1, 1]).toContain(mid[1]);
    // Closer to the first: its knobs weigh more.
    expect(lookupX(table, names, [2, 0], tuned)[0]).toBeLessThan(-0.3);
  });

  it('learns a choice that depends on a feature (toy problem) and generalises to unseen values', () => {
    const rng = new Rng(4);
    const names = ['polarity_cue', 'noise'];
    const polarityOf = (cue: number): number => (cue > 0 ? -1 : 1); // normalised: −1 = bright, +1 = both
    const rows = Array.from({ length: 40 }, () => {
      const cue = 2 * rng.next() - 1;
      return { features: [cue, rng.next()], x: [0, polarityOf(cue), 0] };
    });
    const table = fitLookup({ featureNames: names, use: names, k: 3, rows });
    let right = 0;
    for (let i = 0; i < 200; i++) {
      const cue = 2 * rng.next() - 1;
      if (Math.abs(cue) < 0.05) continue;
      if (lookupX(table, names, [cue, rng.next()], tuned)[1] === polarityOf(cue)) right++;
    }
    expect(right).toBeGreaterThan(170);
  });

  it('refuses features the spec lacks, and an empty training set', () => {
    expect(() => fitLookup({ featureNames: featureSpec(FEATURE_VERSION_V1).names, rows: [{ features: [1], x: [0] }] })).toThrow(/feature "scale_dominant" is not in the feature spec.*|scale features need/);
    expect(() => fitLookup({ featureNames: ['a'], use: ['a'], rows: [] })).toThrow(/no training frames/);
  });

  it('is written, read back and deployed: a frame like a training frame gets that frame\'s knobs', async () => {
    const spec = featureSpec(FEATURE_VERSION_V2);
    const small = generateSynthFrame({ width: 128, height: 128, count: 20, diameter: { median: 6, sigma: 0.05 } }, new Rng(1), 'small').frame;
    const large = generateSynthFrame({ width: 128, height: 128, count: 6, diameter: { median: 24, sigma: 0.05 } }, new Rng(2), 'large').frame;
    const smallX = tuned.toNormalised({ blob_sigma_min: 1.5, blob_polarity: 'bright', blob_threshold: 3 });
    const largeX = tuned.toNormalised({ blob_sigma_min: 6, blob_polarity: 'bright', blob_threshold: 8 });
    const table = fitLookup({ featureNames: spec.names, k: 1, rows: [
      { frame: 'small', features: frameFeatures(small, spec.version), x: smallX },
      { frame: 'large', features: frameFeatures(large, spec.version), x: largeX },
    ] });
    const dir = join(mkdtempSync(join(tmpdir(), 'samstar-lookup-')), 'policy');
    await writeLookupPolicy(dir, { segmenter: 'blobs', knobSpace: tuned.specs, fixed: { refine: 'none' }, lookup: table, features: spec, provenance });
    const policy = await Policy.load(dir, { segmenter: { name: 'blobs', knobs: blobs } });
    expect(policy.kind).toBe('lookup');
    const another = generateSynthFrame({ width: 160, height: 128, count: 25, diameter: { median: 6, sigma: 0.05 } }, new Rng(3), 'small2').frame;
    const choice = policy.choose(another, blobs);
    expect(choice.tuned.blob_sigma_min).toBeCloseTo(1.5, 6);
    expect(choice.knobs.refine).toBe('none');
    expect(policy.choose(generateSynthFrame({ width: 128, height: 160, count: 5, diameter: { median: 26, sigma: 0.05 } }, new Rng(5), 'large2').frame, blobs).tuned.blob_sigma_min).toBeCloseTo(6, 6);

    const path = join(dir, POLICY_FILE);
    const manifest = JSON.parse(readFileSync(path, 'utf8'));
    manifest.lookup.examples[1].x = [0.5];
    writeFileSync(path, JSON.stringify(manifest));
    const error = await Policy.load(dir).catch((e: unknown) => e);
    expect(isSamstarError(error) && error.code).toBe('MODEL_INVALID');
    expect((error as Error).message).toMatch(/policy\.json: lookup\.examples\[1\]\.x needs 3 values/);
  });
});
