import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { command as segmentCommand } from '../../src/cli/commands/segment.js';
import { parseTaskConfig } from '../../src/config/task.js';
import { writeSynthDataset } from '../../src/data/synth-files.js';
import { reportFromPath } from '../../src/report/report.js';
import { StudyStore } from '../../src/store/index.js';
import { archiveOfStudy, pickParetoPoint, type ParetoFile } from '../../src/train/pareto-file.js';
import { resolveTask, type ResolvedTask } from '../../src/train/task.js';
import { train } from '../../src/train/train.js';
import { captureOutput as quiet } from '../fixtures/capture-output.js';
import { comparable } from './helpers.js';

/**
 * A tiny multi-objective `samstar train` on the blob segmenter (no model, fast): coverage up
 * against overlap down, two knobs. It writes pareto.json, best-knobs.json from the knee,
 * resumes an interrupted run to the same evaluations, and segment --pick uses any point.
 */
describe('multi-objective train', () => {
  let dir: string;
  let images: string[];
  const task = (budget: number): Promise<ResolvedTask> =>
    resolveTask(
      parseTaskConfig(
        {
          name: 'tiny-pareto',
          data: { frames: 'data/images/*.png' },
          segmenter: { name: 'blobs', fixed: { blob_sigma_min: 1.5, blob_sigma_max: 6, blob_sigma_steps: 4 }, tune: { blob_threshold: { min: 1, max: 20 }, radius_scale: { min: 0.5, max: 2 } } },
          reward: {
            measure: { foreground: 'bright' },
            terms: { coverage: { type: 'coverage' }, overlap: { type: 'overlap' } },
            objectives: [
              { name: 'coverage', expr: 'coverage', direction: 'maximise' },
              { name: 'overlap', expr: 'overlap', direction: 'minimise' },
            ],
          },
          agent: { name: 'cmaes' },
          budget,
          seed: 4,
        },
        { source: join(dir, 'task.yaml'), baseDir: dir },
      ),
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'samstar-pareto-train-'));
    images = (await writeSynthDataset(join(dir, 'data'), { frames: 2, width: 96, height: 96, count: 14, diameter: { median: 9, sigma: 0.2 }, gap: 0 }, 3)).images;
  });

  it('writes pareto.json (the study\'s non-dominated points) and best-knobs.json at the knee; resumes to the same evaluations', async () => {
    const full = await train(await task(36), { out: join(dir, 'full') });
    expect(full.run.status).toBe('finished');
    const pareto = JSON.parse(readFileSync(full.paths.pareto!, 'utf8')) as ParetoFile;
    const store = StudyStore.open(full.paths.study, { readonly: true });
    const evaluations = store.evaluations(store.study().id);
    store.close();
    expect(evaluations).toHaveLength(36);
    expect(pareto.evaluations).toBe(36);
    // Every evaluation stores its objective values; the front is the non-dominated set of the study.
    for (const e of evaluations) expect(e.terms['objective.overlap']).toBe(e.terms.overlap);
    const nonDominated = evaluations.filter((a) => !evaluations.some((b) => b.terms.coverage >= a.terms.coverage && b.terms.overlap <= a.terms.overlap && (b.terms.coverage > a.terms.coverage || b.terms.overlap < a.terms.overlap)));
    expect(pareto.front.map((p) => p.trial).sort((a, b) => a - b)).toEqual(nonDominated.map((e) => e.index));
    expect(pareto.front.length).toBeGreaterThan(1);
    expect(pareto.default).not.toBeNull();
    // best-knobs.json: the knee (no weights in the config), also what --pick knee gives.
    const best = JSON.parse(readFileSync(full.paths.bestKnobs!, 'utf8')) as { knobs: Record<string, unknown>; pareto: { by: string; trial: number } };
    expect(pareto.chosen.by).toBe('knee');
    expect(best.pareto.trial).toBe(pareto.chosen.trial);
    expect(best.knobs).toEqual(pickParetoPoint(pareto, 'knee').point.knobs);
    // The summary reports the chosen point as its best, not the highest total.
    expect(full.summary.best!.index).toBe(pareto.chosen.trial);

    // Interrupted after 10 evaluations, then resumed: the same evaluations and the same front.
    const controller = new AbortController();
    const first = await train(await task(36), { out: join(dir, 'resumed'), signal: controller.signal, onEvaluation: ({ done }) => done === 10 && controller.abort() });
    expect(first.run.status).toBe('interrupted');
    const resumed = await train(await task(36), { out: join(dir, 'resumed'), resume: true });
    expect(resumed.run.replayed).toBe(10);
    const store2 = StudyStore.open(resumed.paths.study, { readonly: true });
    const again = store2.evaluations(store2.study().id);
    store2.close();
    expect(comparable(again)).toEqual(comparable(evaluations));
    const pareto2 = JSON.parse(readFileSync(resumed.paths.pareto!, 'utf8')) as ParetoFile;
    expect(pareto2.front).toEqual(pareto.front);
    expect(pareto2.chosen).toEqual(pareto.chosen);
    // The archive is the study's: rebuilt from the store, not kept from the first process.
    expect(archiveOfStudy(pareto.objectives, again).front().map((e) => e.meta!.trial)).toEqual(pareto.front.map((p) => p.trial));

    // segment --knobs pareto.json --pick N segments with that point; a bad pick names the choices.
    const out = join(dir, 'seg');
    // The segmenter comes from pareto.json (no --segmenter).
    expect(pareto.segmenter).toBe('blobs');
    await quiet(() => segmentCommand.handler({ images: [images[0]], out, knobs: full.paths.pareto, pick: '0', threads: 1, $0: 'samstar', _: [] } as never) as Promise<void>);
    const written = JSON.parse(readFileSync(join(out, `${basename(images[0], '.png')}.json`), 'utf8')) as { knobs: Record<string, unknown> };
    expect(written.knobs).toMatchObject(pareto.front[0].knobs);
    await expect(segmentCommand.handler({ images: [images[0]], out, segmenter: 'blobs', knobs: full.paths.pareto, pick: 'best', threads: 1 } as never)).rejects.toThrow(/--pick "best"/);

    // The report draws the front.
    const report = await reportFromPath(join(dir, 'full'), { pictures: false });
    expect(report.plots.some((p) => p.endsWith('pareto.svg'))).toBe(true);
    expect(readFileSync(report.html, 'utf8')).toContain('id="pareto"');
  }, 60_000);
});
