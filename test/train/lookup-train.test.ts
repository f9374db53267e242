import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadTaskConfig } from '../../src/config/task.js';
import { writeSynthDataset } from '../../src/data/synth-files.js';
import { loadFrame } from '../../src/image/load.js';
import { Policy } from '../../src/policy/policy.js';
import { loadSegmenter } from '../../src/segmenters/registry.js';
import { trainLookupPolicy } from '../../src/train/lookup-train.js';
import { resolveTask } from '../../src/train/task.js';

/**
 * `samstar train --per-frame`: the black-box agent tunes each frame on its own, and a
 * lookup policy maps features to the nearest frame's knobs. Two kinds of frames that want different
 * σ ranges (small and large particles): the policy must give each kind its own knobs, and a run
 * resumed after the first frame ends with the same policy.
 */
describe('per-frame optimisation → lookup policy', () => {
  let dir: string;
  let config: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'samstar-lookup-train-'));
    await writeSynthDataset(join(dir, 'data', 'a-small'), { frames: 1, width: 96, height: 96, count: 16, diameter: { median: 6, sigma: 0.05 } }, 3);
    await writeSynthDataset(join(dir, 'data', 'b-large'), { frames: 1, width: 96, height: 96, count: 4, diameter: { median: 26, sigma: 0.05 } }, 4);
    config = join(dir, 'task.yaml');
    writeFileSync(
      config,
      stringify({
        name: 'lookup-tiny',
        data: { frames: 'data/*/images/*.png' },
        segmenter: { name: 'blobs', fixed: { blob_sigma_steps: 4, refine: 'none' }, tune: { blob_sigma_min: { min: 1, max: 12 }, blob_sigma_max: { min: 2, max: 24 } } },
        reward: {
          measure: { foreground: 'bright' },
          terms: { coverage: { type: 'coverage' }, overlap: { type: 'overlap' } },
          total: 'coverage - overlap',
        },
        agent: { name: 'grid', options: {} },
        budget: 9,
        seed: 1,
      }),
    );
  });

  it('tunes every frame, writes a lookup policy that gives each kind of frame its own knobs, and resumes', async () => {
    const task = await resolveTask(await loadTaskConfig(config));
    expect(task.data.frames).toHaveLength(2);
    const out = join(dir, 'run');
    const result = await trainLookupPolicy(task, { out, k: 1 });
    expect(result.status).toBe('finished');
    expect(result.summary.frames).toHaveLength(2);
    expect(result.summary.evaluations).toBe(18);
    // Each frame's target is never below its default knobs (the defaults win where the search found nothing better).
    for (const f of result.summary.frames) expect(f.total!).toBeGreaterThanOrEqual(f.default!);
    expect(existsSync(join(out, 'frames'))).toBe(true);
    const [small, large] = result.summary.frames.map((f) => Number(f.best!.blob_sigma_max));
    expect(large).toBeGreaterThan(small);

    const segmenter = await loadSegmenter('blobs');
    try {
      const policy = await Policy.load(result.paths.policy!, { segmenter });
      expect(policy.kind).toBe('lookup');
      for (const [i, frame] of task.data.frames.entries()) {
        const choice = policy.choose(await loadFrame(frame), segmenter.knobs);
        expect(choice.tuned.blob_sigma_max).toBeCloseTo(Number(result.summary.frames[i].best!.blob_sigma_max), 6);
        expect(choice.knobs.refine).toBe('none');
      }
    } finally {
      await segmenter.dispose();
    }

    // Interrupted after the first frame, then resumed: the same per-frame optima and the same table.
    const resumedOut = join(dir, 'resumed');
    const controller = new AbortController();
    const first = await trainLookupPolicy(task, { out: resumedOut, k: 1, signal: controller.signal, onFrameDone: () => controller.abort() });
    expect(first.status).toBe('interrupted');
    expect(first.paths.policy).toBeUndefined();
    await expect(trainLookupPolicy(task, { out: resumedOut, k: 1 })).rejects.toThrow(/already holds a per-frame run/);
    const resumed = await trainLookupPolicy(task, { out: resumedOut, k: 1, resume: true });
    expect(resumed.summary.frames.map((f) => f.best)).toEqual(result.summary.frames.map((f) => f.best));
    expect(resumed.summary.evaluations).toBe(18);
    const a = (await Policy.load(result.paths.policy!)).manifest.lookup;
    const b = (await Policy.load(resumed.paths.policy!)).manifest.lookup;
    expect(b).toEqual(a);
  });
});
