import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PpoAgent } from '../../agents/policy/ppo.js';
import { FEATURE_NAMES, frameFeatures } from '../../src/image/features.js';
import { writeNetworkPolicy, writeStaticPolicy } from '../../src/policy/index.js';
import { blobKnobSpace } from '../../src/segmenters/blobs/knob-specs.js';
import { samKnobSpace } from '../../src/segmenters/sam/knob-specs.js';
import { loadKnobChooser, policySegmenter } from '../../src/serve/knob-chooser.js';
import type { ServeHandle } from '../../src/serve/server.js';
import { getJson, postImage, startTestServer, synthFrame } from './helpers.js';
import { generateSynthFrame } from '../../src/data/synth.js';
import { Rng } from '../../src/util/rng.js';

/**
 * Where the server's knobs come from: --knobs (inline or file), a policy folder
 * (static or network, src/policy), or the defaults; and a served network policy
 * choosing different knobs for different frames.
 */

let dir: string;
const sam = samKnobSpace();
const blobs = blobKnobSpace();
const anyFrame = {} as never;
const provenance = { agent: { name: 'test', options: {} }, seed: 1, created: '2025-01-01T00:00:00.000Z' };
const tuned = [blobs.spec('blob_threshold'), blobs.spec('radius_scale')];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samstar-chooser-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadKnobChooser', () => {
  it('defaults, inline JSON and a best-knobs file, validated against the knob space', async () => {
    expect(await (await loadKnobChooser({}, 'sam', sam)).choose(anyFrame)).toEqual(sam.defaults());
    const inline = await loadKnobChooser({ knobs: '{"points_per_side": 16}' }, 'sam', sam);
    expect((await inline.choose(anyFrame)).points_per_side).toBe(16);
    expect(inline.describe()).toMatchObject({ kind: 'fixed', source: '--knobs' });
    const file = join(dir, 'best-knobs.json');
    await writeFile(file, JSON.stringify({ knobs: { pred_iou_thresh: 0.7 }, reward: 0.9 }));
    expect((await (await loadKnobChooser({ knobs: file }, 'sam', sam)).choose(anyFrame)).pred_iou_thresh).toBe(0.7);
    await expect(loadKnobChooser({ knobs: '{"points_per_sid": 16}' }, 'sam', sam)).rejects.toThrow(/unknown knob "points_per_sid"/);
    await expect(loadKnobChooser({ knobs: '{"points_per_side": 1000}' }, 'sam', sam)).rejects.toThrow(/outside \[4, 128\]/);
    await expect(loadKnobChooser({ policy: dir, knobs: '{}' }, 'sam', sam)).rejects.toThrow(/alternatives/);
  });

  it('a static policy folder, checked against the segmenter it is served with', async () => {
    const policy = join(dir, 'static');
    await writeStaticPolicy(policy, { segmenter: 'blobs', knobSpace: tuned, fixed: { min_area: 5 }, knobs: { blob_threshold: 6, radius_scale: 1.2 }, provenance });
    expect(await policySegmenter(policy)).toBe('blobs');
    const chooser = await loadKnobChooser({ policy }, 'blobs', blobs);
    expect(chooser.describe()).toMatchObject({ kind: 'policy', policy_kind: 'static', segmenter: 'blobs', tuned: ['blob_threshold', 'radius_scale'], knobs: { blob_threshold: 6, min_area: 5 } });
    expect(await chooser.choose(synthFrame(1, 64, 4) as never)).toEqual(blobs.resolve({ min_area: 5, blob_threshold: 6, radius_scale: 1.2 }));
    await expect(loadKnobChooser({ policy }, 'sam', sam)).rejects.toThrow(/does not fit the sam segmenter/);
    await expect(loadKnobChooser({ policy: join(dir, 'nowhere') }, 'blobs', blobs)).rejects.toThrow(/nowhere/);
  });
});

describe('a served network policy', () => {
  let server: ServeHandle;
  afterAll(async () => {
    await server?.close();
  });

  it('chooses the knobs per frame; /v1/policy says what is loaded', async () => {
    const frames = [
      generateSynthFrame({ width: 96, height: 96, count: 3, diameter: { median: 6 }, contrast: 0.2 }, new Rng(1), 'sparse'),
      generateSynthFrame({ width: 96, height: 96, count: 30, diameter: { median: 14 }, contrast: 0.8 }, new Rng(2), 'dense'),
    ];
    const agent = new PpoAgent(FEATURE_NAMES.length, tuned.length, 3, { logStdInit: -0.5 });
    agent.fitNormalizer(frames.map((f) => frameFeatures(f.frame)));
    const policy = join(dir, 'network');
    await writeNetworkPolicy(policy, { agent, segmenter: 'blobs', knobSpace: tuned, fixed: {}, provenance });
    const chooser = await loadKnobChooser({ policy }, 'blobs', blobs);
    server = await startTestServer({ chooser });
    const described = await getJson(`${server.url}/v1/policy`);
    expect(described.chooser).toMatchObject({ kind: 'policy', policy_kind: 'network', agent: 'test', tuned: ['blob_threshold', 'radius_scale'] });
    expect(described.chooser.features).toEqual([...FEATURE_NAMES]);

    const answers = [];
    for (const f of frames) {
      const raw = f.samples as Uint8Array;
      const r = await postImage(server, raw, { 'content-type': 'application/octet-stream', 'x-width': '96', 'x-height': '96', 'x-dtype': 'uint8' });
      expect(r.status).toBe(200);
      answers.push(await r.json());
    }
    expect(answers[0].knobs).toEqual((await chooser.choose(frames[0].frame)));
    expect(answers[0].knobs.blob_threshold).not.toBe(answers[1].knobs.blob_threshold);
    expect(answers[0].timings_ms.choose).toBeLessThan(1000);
  });
});
