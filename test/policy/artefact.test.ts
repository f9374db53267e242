import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PpoAgent } from '../../agents/policy/ppo.js';
import { generateSynthSeries, type SynthFrame } from '../../src/data/synth.js';
import { FEATURE_NAMES, FEATURE_VERSION, FEATURE_VERSION_V1, featureSpec, frameFeatures } from '../../src/image/features.js';
import { POLICY_FILE, Policy, policyMismatches, readPolicyManifest, writeNetworkPolicy, writeStaticPolicy, type PolicyManifest } from '../../src/policy/index.js';
import { blobKnobSpace } from '../../src/segmenters/blobs/knob-specs.js';
import type { KnobSpec } from '../../src/segmenters/knobs.js';
import { samKnobSpace } from '../../src/segmenters/sam/knob-specs.js';
import { isSamstarError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

const sam = { name: 'sam', knobs: samKnobSpace() };
const tunedSpecs: KnobSpec[] = [
  { ...samKnobSpace().spec('pred_iou_thresh'), min: 0.3, max: 0.98 } as KnobSpec,
  samKnobSpace().spec('stability_score_thresh'),
  samKnobSpace().spec('mask_threshold'),
];
const provenance = { agent: { name: 'test', options: {} }, seed: 1, created: '2025-01-01T00:00:00.000Z' };

async function errorOf(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

function editManifest(dir: string, edit: (m: Record<string, unknown>) => void): void {
  const path = join(dir, POLICY_FILE);
  const m = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  edit(m);
  writeFileSync(path, JSON.stringify(m));
}

describe('policy artefact', () => {
  let root: string;
  let frames: SynthFrame[];

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'samstar-policy-'));
    frames = generateSynthSeries({ frames: 3, width: 64, height: 64, count: 5, diameter: { median: 8 }, drift: { diameter: 16, contrast: 0.2 } }, new Rng(2), 'p');
  });

  it('static: written atomically, loaded back, the same knobs for every frame (fixed ∪ tuned)', async () => {
    const dir = join(root, 'static');
    const manifest = await writeStaticPolicy(dir, {
      segmenter: 'sam',
      knobSpace: tunedSpecs,
      fixed: { points_per_side: 6 },
      knobs: { pred_iou_thresh: 0.7, stability_score_thresh: 0.8, mask_threshold: 0.5, crop_n_layers: 0 },
      provenance,
    });
    expect(manifest.format).toBe('samstar-policy');
    expect(manifest.kind).toBe('static');
    expect(manifest.knobs).toEqual({ points_per_side: 6, pred_iou_thresh: 0.7, stability_score_thresh: 0.8, mask_threshold: 0.5 });
    expect(manifest.features).toEqual({ version: FEATURE_VERSION, names: [...FEATURE_NAMES] });
    expect(manifest.id).toMatch(/^policy-[0-9a-f]{16}$/);
    const policy = await Policy.load(dir, { segmenter: sam });
    expect(policy.id).toBe(manifest.id);
    const a = policy.choose(frames[0].frame, sam.knobs);
    const b = policy.choose(frames[2].frame, sam.knobs);
    expect(a.knobs).toEqual(b.knobs);
    expect(a.knobs).toEqual(sam.knobs.resolve({ points_per_side: 6, pred_iou_thresh: 0.7, stability_score_thresh: 0.8, mask_threshold: 0.5 }));
    // Rewriting replaces the folder as a whole and leaves no temporary folders.
    writeFileSync(join(dir, 'stray.txt'), 'x');
    await writeStaticPolicy(dir, { segmenter: 'sam', knobSpace: tunedSpecs, fixed: {}, knobs: { pred_iou_thresh: 0.5, stability_score_thresh: 0.5, mask_threshold: 0 }, provenance });
    expect(readdirSync(dir)).toEqual([POLICY_FILE]);
    expect(readdirSync(root).filter((n) => n.startsWith('.'))).toEqual([]);
    expect((await Policy.load(dir)).choose(frames[0].frame, sam.knobs).tuned.pred_iou_thresh).toBe(0.5);
  });

  it('network: saved and loaded, the same knobs for the same frame; per-frame choice from the features', async () => {
    const agent = new PpoAgent(FEATURE_NAMES.length, tunedSpecs.length, 3, { logStdInit: -0.5 });
    const features = frames.map((f) => frameFeatures(f.frame));
    agent.fitNormalizer(features);
    const dir = join(root, 'network');
    const manifest = await writeNetworkPolicy(dir, { agent, segmenter: 'sam', knobSpace: tunedSpecs, fixed: { points_per_side: 6 }, provenance });
    expect(manifest.kind).toBe('network');
    expect(manifest.network).toMatchObject({ weights: '.', agent: 'ppo', observationSize: FEATURE_NAMES.length, actionSize: 3, hidden: [64, 64] });
    expect(manifest.normalization?.count).toBe(3);
    expect(readdirSync(dir).sort()).toEqual(['policy.json', 'weights.bin', 'weights.json']);

    const first = await Policy.load(dir, { segmenter: sam });
    const second = await Policy.load(dir, { segmenter: sam });
    for (const [i, f] of frames.entries()) {
      const expected = agent.act(features[i], { deterministic: true }).action;
      const a = first.choose(f.frame, sam.knobs);
      expect(a.x).toEqual(expected);
      expect(a.knobs).toEqual(second.choose(f.frame, sam.knobs).knobs);
      expect(a.knobs.points_per_side).toBe(6);
      expect(a.ms).toBeLessThan(1000);
    }
    // Different frames, different knobs.
    expect(first.choose(frames[0].frame, sam.knobs).tuned).not.toEqual(first.choose(frames[2].frame, sam.knobs).tuned);
  });

  it('a network policy trained on frame features version 1 still deploys: it is fed version-1 features', async () => {
    const v1 = featureSpec(FEATURE_VERSION_V1);
    expect(v1.names.length).toBeLessThan(FEATURE_NAMES.length);
    const agent = new PpoAgent(v1.names.length, tunedSpecs.length, 5, { logStdInit: -0.5 });
    const features = frames.map((f) => frameFeatures(f.frame, FEATURE_VERSION_V1));
    agent.fitNormalizer(features);
    const dir = join(root, 'network-v1');
    await writeNetworkPolicy(dir, { agent, segmenter: 'sam', knobSpace: tunedSpecs, fixed: {}, features: v1, provenance });
    const policy = await Policy.load(dir, { segmenter: sam });
    for (const [i, f] of frames.entries()) expect(policy.choose(f.frame, sam.knobs).x).toEqual(agent.act(features[i], { deterministic: true }).action);
    // A version this build does not know is refused, naming the versions it computes.
    editManifest(dir, (m) => ((m.features as { version: string }).version = 'samstar-frame-features-v9'));
    expect((await errorOf(() => Policy.load(dir, { segmenter: sam }))).message).toMatch(/trained on "samstar-frame-features-v9", this samstar computes "samstar-frame-features-v1", "samstar-frame-features-v2"/);
  });

  it('says exactly what does not fit: unknown knob, bounds, kind, fixed values, segmenter, feature version and names', async () => {
    const agent = new PpoAgent(FEATURE_NAMES.length, tunedSpecs.length, 3);
    const dir = join(root, 'mismatch');
    await writeNetworkPolicy(dir, { agent, segmenter: 'sam', knobSpace: tunedSpecs, fixed: { points_per_side: 6 }, provenance });
    editManifest(dir, (m) => {
      const specs = m.knobSpace as Record<string, unknown>[];
      specs[0].name = 'pred_iou_thres';
      specs[1].max = 1.5;
      specs[2].kind = 'int';
      (m.fixed as Record<string, unknown>).points_per_side = 1000;
      (m.features as Record<string, unknown>).version = 'samstar-frame-features-v0';
    });
    const error = await errorOf(() => Policy.load(dir, { segmenter: sam }));
    expect(isSamstarError(error) && error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('does not fit the sam segmenter');
    expect(error.message).toContain('unknown knob "pred_iou_thres" (tuned): the sam segmenter has no such knob; did you mean "pred_iou_thresh"?');
    expect(error.message).toContain('knob "stability_score_thresh": bounds [0, 1.5] are outside the segmenter\'s [0, 1]');
    expect(error.message).toContain('knob "mask_threshold": int in the policy, float in the segmenter');
    expect(error.message).toMatch(/fixed knob "points_per_side" = 1000: .*outside \[4, 128\]/);
    expect(error.message).toContain('feature version: the policy was trained on "samstar-frame-features-v0", this samstar computes "samstar-frame-features-v1"');

    const manifest = await readPolicyManifest(dir);
    const renamed: PolicyManifest = { ...manifest, knobSpace: tunedSpecs, fixed: {}, features: { version: FEATURE_VERSION, names: [...FEATURE_NAMES.slice(0, -1), 'blob_polarity_v2'] } };
    expect(policyMismatches(renamed, sam)).toEqual([`features: "blob_polarity_v2" unknown to this samstar`]);
    const swapped: PolicyManifest = { ...renamed, features: { version: FEATURE_VERSION, names: [FEATURE_NAMES[1], FEATURE_NAMES[0], ...FEATURE_NAMES.slice(2)] } };
    expect(policyMismatches(swapped, sam)).toEqual([`features: order differs at position 0 ("${FEATURE_NAMES[1]}" in the policy, "${FEATURE_NAMES[0]}" here)`]);
    const blobs = policyMismatches({ ...renamed, features: { version: FEATURE_VERSION, names: [...FEATURE_NAMES] } }, { name: 'blobs', knobs: blobKnobSpace() });
    expect(blobs[0]).toBe('segmenter: the policy is for "sam", the segmenter is "blobs"');
    expect(blobs.some((p) => p.includes('unknown knob "mask_threshold" (tuned)') && p.includes('did you mean "blob_threshold"'))).toBe(true);
    // A fitting policy has no problems.
    expect(policyMismatches({ ...renamed, features: { version: FEATURE_VERSION, names: [...FEATURE_NAMES] } }, sam)).toEqual([]);
  });

  it('refuses folders that are not policies, with the reason', async () => {
    const missing = await errorOf(() => Policy.load(join(root, 'nothing-here')));
    expect(isSamstarError(missing) && missing.code).toBe('MODEL_NOT_FOUND');
    expect(missing.message).toContain('policy.json is missing');
    const dir = join(root, 'static-bad');
    await writeStaticPolicy(dir, { segmenter: 'sam', knobSpace: tunedSpecs, fixed: {}, knobs: { pred_iou_thresh: 0.5, stability_score_thresh: 0.5, mask_threshold: 0 }, provenance });
    editManifest(dir, (m) => (m.version = 7));
    expect((await errorOf(() => Policy.load(dir))).message).toContain('version 7 is not supported');
    editManifest(dir, (m) => {
      m.version = 1;
      m.kind = 'oracle';
    });
    expect((await errorOf(() => Policy.load(dir))).message).toContain('kind is "oracle", expected "static", "network" or "lookup"');
    // A network policy whose weights are missing.
    const net = join(root, 'network-missing');
    await writeNetworkPolicy(net, { agent: new PpoAgent(FEATURE_NAMES.length, 3, 1), segmenter: 'sam', knobSpace: tunedSpecs, fixed: {}, provenance });
    writeFileSync(join(net, 'weights.bin'), new Uint8Array(8));
    expect((await errorOf(() => Policy.load(net))).message).toContain('does not match its checksum');
    expect(existsSync(join(net, POLICY_FILE))).toBe(true);
  });
});
