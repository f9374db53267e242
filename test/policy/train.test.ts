import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { command as segmentCommand } from '../../src/cli/commands/segment.js';
import { parseTaskConfig } from '../../src/config/task.js';
import { writeSynthDataset } from '../../src/data/synth-files.js';
import { loadFrame } from '../../src/image/load.js';
import { Policy } from '../../src/policy/policy.js';
import { SamSegmenter } from '../../src/segmenters/sam/segmenter.js';
import { StudyStore } from '../../src/store/index.js';
import { initFromPolicy, trainPolicy } from '../../src/train/policy-train.js';
import { reportFromPath } from '../../src/report/report.js';
import { resolveTask, type ResolvedTask } from '../../src/train/task.js';
import { train } from '../../src/train/train.js';
import type { SamstarError } from '../../src/util/errors.js';
import { comparable } from '../train/helpers.js';
import { captureOutput as quiet } from '../fixtures/capture-output.js';


/**
 * Training a contextual policy (ppo) and a static one (cmaes) on tiny frames,
 * then deploying both with `samstar segment --policy`.
 */
describe('policies from samstar train', () => {
  let dir: string;
  let images: string[];
  let segmenter: SamSegmenter;
  const task = async (agent: unknown, budget: number): Promise<ResolvedTask> =>
    resolveTask(
      parseTaskConfig(
        {
          name: 'tiny-policy',
          data: { frames: 'data/images/*.png', labels: 'data/labels' },
          segmenter: { name: 'sam', fixed: { points_per_side: 4 }, tune: { pred_iou_thresh: { min: 0.3, max: 0.98 }, stability_score_thresh: { min: 0.3, max: 0.98 } } },
          reward: {
            measure: { foreground: 'bright' },
            terms: { shape: { type: 'shape', solidity: { min: 0.9 } }, coverage: { type: 'coverage' }, overlap: { type: 'overlap' } },
            total: '0.3*shape + 0.5*coverage - 0.2*overlap',
          },
          agent,
          budget,
          seed: 2,
        },
        { source: join(dir, 'task.yaml'), baseDir: dir },
      ),
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'samstar-policy-train-'));
    const written = await writeSynthDataset(join(dir, 'data'), { frames: 3, width: 80, height: 80, count: 5, diameter: { median: 10, sigma: 0.2 }, drift: { diameter: 16, contrast: 0.3 } }, 9);
    images = written.images;
    segmenter = await SamSegmenter.load({ intraOpThreads: 1 });
  });
  afterAll(async () => {
    await segmenter.dispose();
  });

  it('ppo: every visit stored, a network policy written; an interrupted run resumes to the same evaluations', async () => {
    const ppo = await task({ name: 'ppo', options: { rolloutSize: 6, minibatchSize: 3, epochs: 2, logStdInit: -0.5 } }, 18);
    expect(ppo.agent).toEqual({ name: 'ppo', options: { rolloutSize: 6, minibatchSize: 3, epochs: 2, logStdInit: -0.5 } });
    const full = await trainPolicy(ppo, { out: join(dir, 'ppo'), segmenter });
    expect(full.status).toBe('finished');
    expect(full.summary.evaluations).toBe(18);
    expect(full.summary.updates).toBe(3);
    expect(full.summary.policy!.perFrame).toHaveLength(3);
    expect(full.summary.policy!.labelScores).toBeDefined();
    const store = StudyStore.open(full.paths.study, { readonly: true });
    const evaluations = store.evaluations(store.study().id);
    store.close();
    // Each pass visits every frame once, one frame per evaluation, with the action as x.
    expect(evaluations.map((e) => e.frames.length)).toEqual(new Array(18).fill(1));
    for (let pass = 0; pass < 6; pass++) expect(evaluations.slice(3 * pass, 3 * pass + 3).map((e) => e.frames[0]).sort()).toEqual([0, 1, 2]);
    expect(evaluations.every((e) => e.x.every((v) => v >= -1 && v <= 1) && Number.isFinite(e.total))).toBe(true);

    // The deployed policy reproduces the knobs the summary reports per frame.
    const policy = await Policy.load(full.paths.policy!, { segmenter });
    expect(policy.kind).toBe('network');
    expect(policy.manifest.provenance).toMatchObject({ agent: { name: 'ppo' }, seed: 2, frames: 3, study: 'tiny-policy', evaluations: 18 });
    expect(policy.manifest.provenance.dataHash).toMatch(/^[0-9a-f]{64}$/);
    for (const [i, path] of images.entries()) {
      expect(policy.choose(await loadFrame(path), segmenter.knobs).tuned).toEqual(full.summary.policy!.perFrame[i].knobs);
    }

    // Interrupt after 8 evaluations (inside the second rollout), then resume.
    const controller = new AbortController();
    const first = await trainPolicy(ppo, {
      out: join(dir, 'ppo-resumed'),
      segmenter,
      signal: controller.signal,
      onEvaluation: ({ done }) => done === 8 && controller.abort(),
    });
    expect(first.status).toBe('interrupted');
    expect(first.paths.policy).toBeUndefined();
    const resumed = await trainPolicy(ppo, { out: join(dir, 'ppo-resumed'), segmenter, resume: true });
    expect(resumed.summary.replayed).toBe(8);
    const store2 = StudyStore.open(resumed.paths.study, { readonly: true });
    expect(comparable(store2.evaluations(store2.study().id))).toEqual(comparable(evaluations));
    store2.close();
    const again = await Policy.load(resumed.paths.policy!);
    expect(again.choose(await loadFrame(images[1]), segmenter.knobs).knobs).toEqual(policy.choose(await loadFrame(images[1]), segmenter.knobs).knobs);
  });

  it('cmaes: OUT/policy is a static policy of the best knobs; segment --policy records the knobs per frame with the policy id', async () => {
    const cma = await task({ name: 'cmaes', options: { popsize: 4 } }, 8);
    const result = await train(cma, { out: join(dir, 'cmaes'), segmenter });
    const best = JSON.parse(readFileSync(result.paths.bestKnobs!, 'utf8')) as { knobs: Record<string, unknown> };
    const policy = await Policy.load(result.paths.policy!, { segmenter });
    expect(policy.kind).toBe('static');
    expect(policy.choose(await loadFrame(images[0]), segmenter.knobs).knobs).toEqual(best.knobs);
    expect(policy.manifest.provenance.reward).toEqual(cma.reward.config);

    for (const which of ['cmaes', 'ppo'] as const) {
      const out = join(dir, `seg-${which}`);
      const dirOf = join(dir, which, 'policy');
      const { stdout } = await quiet(() => segmentCommand.handler({ images, out, policy: dirOf, threads: 1, $0: 'samstar', _: [] } as never) as Promise<void>);
      const deployed = await Policy.load(dirOf);
      expect(stdout).toContain(`policy ${deployed.id}`);
      const knobs = [];
      for (const image of images) {
        const record = JSON.parse(readFileSync(join(out, `${basename(image, '.png')}.json`), 'utf8')) as { knobs: Record<string, unknown>; policy: { id: string; kind: string } };
        expect(record.policy).toMatchObject({ id: deployed.id, kind: which === 'ppo' ? 'network' : 'static' });
        expect(record.knobs).toEqual(deployed.choose(await loadFrame(image), segmenter.knobs).knobs);
        knobs.push(record.knobs);
      }
      // A network policy chooses per frame: the frames drift, so do the knobs.
      if (which === 'ppo') expect(new Set(knobs.map((k) => JSON.stringify(k))).size).toBeGreaterThan(1);
    }
    await expect(segmentCommand.handler({ images, out: join(dir, 'x'), policy: join(dir, 'ppo', 'policy'), knobs: '{}', threads: 1 } as never)).rejects.toThrow(/--policy and --knobs are alternatives/);

    // A contextual policy warm-started at the static knobs starts (before any update) next to them.
    const ppo = await task({ name: 'ppo', options: { rolloutSize: 6 } }, 3);
    const init = await initFromPolicy(result.paths.policy!, ppo);
    expect(init.x).toEqual(policy.space.toNormalised(best.knobs as never));
    // Knob names alone do not tie a policy to a task: the segmenter must be the same.
    await expect(initFromPolicy(result.paths.policy!, { ...ppo, segmenter: { ...ppo.segmenter, name: 'blobs' as never } })).rejects.toThrow(/the policy is for the "sam" segmenter, the task uses "blobs"/);
    const warm = await trainPolicy(ppo, { out: join(dir, 'ppo-warm'), segmenter, init });
    expect(warm.summary.updates).toBe(0);
    expect(warm.summary.init).toEqual(init);
    // The run's own report says where it started (the comparison report does the same from compare.json).
    const report = await reportFromPath(join(dir, 'ppo-warm'), { segmenter, pictures: false });
    expect(report.summary.policyInit).toMatchObject({ source: init.source, x: init.x, path: resolve(result.paths.policy!) });
    expect(readFileSync(report.html, 'utf8')).toContain('id="policy-init"');
    const started = await Policy.load(warm.paths.policy!);
    for (const image of images) {
      const x = started.choose(await loadFrame(image), segmenter.knobs).x;
      x.forEach((v, i) => expect(Math.abs(v - init.x[i])).toBeLessThan(0.1));
    }
    await expect(trainPolicy({ ...ppo, budget: 4 }, { out: join(dir, 'ppo-warm'), segmenter, resume: true, init: { x: [0, 0] } })).rejects.toThrow(/warm-started at \[.*\] \(policy-.*\), not at \[0, 0\]/);
    await expect(train(await task('ppo', 4), { out: join(dir, 'y'), segmenter })).rejects.toThrow(/use trainPolicy/);
  });

  it('task configs accept ppo/reinforce with their options, naming bad ones', async () => {
    const typo = await task({ name: 'ppo', options: { rolloutSise: 4 } }, 4).catch((e: SamstarError) => e);
    expect((typo as SamstarError).message).toMatch(/invalid options for agent "ppo"\n.*agent\.options\.rolloutSise: unknown key "rolloutSise"/);
    expect((typo as SamstarError).hint).toMatch(/did you mean "rolloutSize"/);
    await expect(task({ name: 'reinforce', options: { baseline: 'median' } }, 4)).rejects.toThrow(/invalid options for agent "reinforce"\n.*agent\.options\.baseline: .*\(found "median"\)/);
    const unknown = (await task('pp0', 4).catch((e: SamstarError) => e)) as SamstarError;
    expect(unknown.message).toMatch(/unknown agent "pp0"/);
    expect(unknown.hint).toMatch(/did you mean "ppo"/);
    expect((await task({ name: 'reinforce', options: { minibatchSize: 'Infinity' } }, 4)).agent.options).toEqual({ minibatchSize: 'Infinity' });
  });
});
