import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { command as segmentCommand } from '../../src/cli/commands/segment.js';
import { loadTaskConfig, parseTaskConfig } from '../../src/config/task.js';
import { writeSynthDataset } from '../../src/data/synth-files.js';
import { readPolicyManifest } from '../../src/policy/artefact.js';
import { Policy, writeStaticPolicy } from '../../src/policy/policy.js';
import { loadFrame } from '../../src/image/load.js';
import { loadKnobChooser, policySegmenter } from '../../src/serve/knob-chooser.js';
import { loadSegmenter, segmenterKnobSpace } from '../../src/segmenters/registry.js';
import { StudyStore } from '../../src/store/index.js';
import { resolveTask, withSegmenter } from '../../src/train/task.js';
import { trainPolicy } from '../../src/train/policy-train.js';
import { train } from '../../src/train/train.js';
import { isSamstarError } from '../../src/util/errors.js';
import { captureOutput } from '../fixtures/capture-output.js';
import { comparable } from './helpers.js';

/**
 * A task on the weight-free LoG blob segmenter: it trains, resumes to the records of an
 * uninterrupted run, writes a policy for the blobs segmenter, and `segment --policy` with that policy
 * runs the blob segmenter; the policy is refused by another segmenter even where knob names agree.
 */
describe('a task with segmenter.name: blobs', () => {
  let dir: string;
  let config: string;
  let images: string[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'samstar-blobs-task-'));
    images = (await writeSynthDataset(join(dir, 'data'), { frames: 2, width: 96, height: 96, count: 8, diameter: { median: 10, sigma: 0.15 } }, 21)).images;
    config = join(dir, 'task.yaml');
    writeFileSync(
      config,
      stringify({
        name: 'blobs-tiny',
        data: { frames: 'data/images/*.png' },
        segmenter: { name: 'blobs', fixed: { blob_sigma_max: 6 }, tune: { blob_threshold: { min: 1, max: 20 }, radius_scale: {} } },
        reward: {
          measure: { foreground: 'bright' },
          terms: {
            size: { type: 'size', target: { distribution: 'lognormal', median: 10, sigma: 0.25 }, tolerance: 0.3 },
            coverage: { type: 'coverage' },
          },
          total: '0.5*size + 0.5*coverage',
        },
        agent: { name: 'cmaes', options: { popsize: 4 } },
        budget: 8,
        seed: 2,
      }),
    );
  });

  const segment = segmentCommand.handler as (args: unknown) => Promise<void>;
  const evaluationsOf = (out: string): ReturnType<typeof comparable> => {
    const store = StudyStore.open(join(out, 'study.sqlite'), { readonly: true });
    try {
      return comparable(store.evaluations(store.study().id));
    } finally {
      store.close();
    }
  };

  it('trains, resumes to the same evaluations as an uninterrupted run, and writes a blobs policy', async () => {
    const task = await resolveTask(await loadTaskConfig(config));
    expect(task.segmenter.name).toBe('blobs');
    expect(task.knobSpace.map((k) => k.name)).toEqual(['blob_threshold', 'radius_scale']);

    const full = await train(task, { out: join(dir, 'full') });
    expect(full.run.status).toBe('finished');
    expect(full.summary.evaluations).toBe(8);
    await train({ ...task, budget: 4 }, { out: join(dir, 'resumed') });
    const resumed = await train(task, { out: join(dir, 'resumed'), resume: true });
    expect(resumed.run.replayed).toBe(4);
    expect(evaluationsOf(join(dir, 'resumed'))).toEqual(evaluationsOf(join(dir, 'full')));
    // Every record holds blob knobs: the fixed one and the tuned ones, within the tuned bounds.
    for (const e of evaluationsOf(join(dir, 'full')) as { knobs: Record<string, number> }[]) {
      expect(e.knobs.blob_sigma_max).toBe(6);
      expect(e.knobs.blob_threshold).toBeGreaterThanOrEqual(1);
      expect(e.knobs.blob_threshold).toBeLessThanOrEqual(20);
    }

    const manifest = await readPolicyManifest(full.paths.policy!);
    expect(manifest.segmenter).toBe('blobs');
    expect(manifest.knobSpace.map((k) => k.name)).toEqual(['blob_threshold', 'radius_scale']);
    expect(manifest.fixed).toEqual({ blob_sigma_max: 6 });
  });

  it('a ppo task that tunes a choice knob (blob_polarity) trains a categorical head for it, and the policy deploys a valid choice', async () => {
    const yaml = join(dir, 'task-ppo.yaml');
    const raw = (await import('yaml')).parse(readFileSync(config, 'utf8')) as Record<string, unknown>;
    writeFileSync(
      yaml,
      stringify({
        ...raw,
        segmenter: { name: 'blobs', fixed: { blob_sigma_max: 6 }, tune: { blob_threshold: { min: 1, max: 20 }, blob_polarity: {} } },
        agent: { name: 'ppo', options: { rolloutSize: 4, minibatchSize: 4, epochs: 2 } },
        budget: 8,
      }),
    );
    const task = await resolveTask(await loadTaskConfig(yaml));
    const run = await trainPolicy(task, { out: join(dir, 'ppo-choice') });
    const manifest = await readPolicyManifest(run.paths.policy!);
    expect(manifest.kind).toBe('network');
    const weights = JSON.parse(readFileSync(join(run.paths.policy!, manifest.network!.weights, 'weights.json'), 'utf8')) as { meta: { policy: { categories: number[] } } };
    expect(weights.meta.policy.categories).toEqual([0, 3]);
    const policy = await Policy.load(run.paths.policy!);
    const choice = policy.choose(await loadFrame(images[0]), segmenterKnobSpace('blobs'));
    expect(['bright', 'dark', 'both']).toContain(choice.knobs.blob_polarity);
  });

  it('`segment --policy` with that policy runs the blob segmenter with the policy\'s knobs', async () => {
    const policyDir = join(dir, 'full', 'policy');
    const out = join(dir, 'seg');
    await captureOutput(() => segment({ images: [images[0]], out, policy: policyDir, _: [], $0: 'samstar' }));
    const json = readdirSync(out).find((f) => f.endsWith('.json'))!;
    const record = JSON.parse(readFileSync(join(out, json), 'utf8')) as Record<string, unknown>;
    const text = JSON.stringify(record);
    expect(text).toContain('"segmenter":"blobs"');
    const best = JSON.parse(readFileSync(join(dir, 'full', 'best-knobs.json'), 'utf8')) as { knobs: Record<string, unknown> };
    // The knobs recorded are the blob segmenter's full vector, with the policy's tuned values.
    expect(text).toContain(`"blob_threshold":${JSON.stringify(best.knobs.blob_threshold)}`);
    expect(text).not.toContain('pred_iou_thresh');
  });

  it('refuses the blobs policy on sam, even though both segmenters have a knob called blob_threshold', async () => {
    const policyDir = join(dir, 'full', 'policy');
    const sam = await loadSegmenter('sam');
    try {
      expect(sam.knobs.names).toContain('blob_threshold');
      const error = await Policy.load(policyDir, { segmenter: sam }).catch((e: unknown) => e);
      expect(isSamstarError(error) && error.code).toBe('CONFIG_INVALID');
      expect(String((error as Error).message)).toMatch(/the policy is for "blobs", the segmenter is "sam"/);
    } finally {
      await sam.dispose();
    }
    const viaCli = await captureOutput(() => segment({ images: [images[0]], out: join(dir, 'seg-sam'), policy: policyDir, segmenter: 'sam', _: [], $0: 'samstar' })).catch((e: unknown) => e);
    expect(String((viaCli as Error).message)).toMatch(/does not fit the sam segmenter/);
  });

  it('serve picks the policy\'s segmenter and chooses blob knobs with it; a sam chooser refuses the policy', async () => {
    const policyDir = join(dir, 'full', 'policy');
    expect(await policySegmenter(policyDir)).toBe('blobs');
    const blobs = await loadSegmenter('blobs');
    try {
      const chooser = await loadKnobChooser({ policy: policyDir }, 'blobs', segmenterKnobSpace('blobs'));
      const frame = await loadFrame(images[0]);
      const knobs = await chooser.choose(frame);
      expect(Object.keys(knobs).sort()).toEqual(blobs.knobs.names.sort());
      expect((await blobs.segment(frame, knobs)).knobs).toEqual(knobs);
    } finally {
      await blobs.dispose();
    }
    await expect(loadKnobChooser({ policy: policyDir }, 'sam', segmenterKnobSpace('sam'))).rejects.toThrow(/the policy is for "blobs"/);
  });

  it('reads a policy.json from before segmenters were recorded as a sam policy', async () => {
    const old = join(dir, 'old-policy');
    await writeStaticPolicy(old, {
      segmenter: 'sam',
      knobSpace: [{ name: 'pred_iou_thresh', kind: 'float', min: 0.3, max: 0.98, default: 0.88, stage: 'filter', description: 'p' }],
      fixed: {},
      knobs: { pred_iou_thresh: 0.7 },
      provenance: { agent: { name: 'cmaes' } } as never,
    });
    const file = join(old, 'policy.json');
    const { segmenter: _dropped, ...rest } = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify(rest));
    expect((await readPolicyManifest(old)).segmenter).toBe('sam');
  });

  it('refuses model files for the blobs segmenter, and --segmenter on a sam task tunes the other segmenter\'s own knobs', async () => {
    const base = { data: { frames: 'x.png' }, reward: 'r.yaml', agent: 'cmaes', budget: 4 };
    expect(() => parseTaskConfig({ ...base, segmenter: { name: 'blobs', encoder: 'e.onnx', decoder: 'd.onnx', tune: ['blob_threshold'] } })).toThrow(/the blobs segmenter runs no model/);
    expect(() => parseTaskConfig({ ...base, segmenter: { name: 'blobs', tune: ['pred_iou_thresh'] } })).toThrow(/unknown knob "pred_iou_thresh"/);
    expect(() => parseTaskConfig({ ...base, segmenter: { name: 'blob', tune: ['blob_threshold'] } })).toThrow(/segmenter\.name/);

    const blobTask = await resolveTask(await loadTaskConfig(config));
    const onSam = withSegmenter(blobTask, 'sam');
    expect(onSam.segmenter).toEqual({ name: 'sam', fixed: {}, tune: [{ name: 'pred_iou_thresh' }, { name: 'stability_score_thresh' }, { name: 'box_nms_thresh' }] });
    expect(onSam.knobSpace.map((k) => k.name)).toEqual(['pred_iou_thresh', 'stability_score_thresh', 'box_nms_thresh']);
    expect(withSegmenter(blobTask, 'blobs')).toBe(blobTask);
  });
});
