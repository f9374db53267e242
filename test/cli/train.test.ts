import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { writeSynthDataset } from '../../src/data/synth-files.js';
import { loadFrame } from '../../src/image/load.js';
import { readLabelPng } from '../../src/masks/label-png.js';
import { meanScores, scorePrediction } from '../../src/measure/index.js';
import { SamSegmenter } from '../../src/segmenters/sam/segmenter.js';
import { StudyStore, type EvaluationRecord } from '../../src/store/index.js';
import { command as studiesCommand } from '../../src/cli/commands/studies.js';
import { command as trainCommand } from '../../src/cli/commands/train.js';
import { loadTaskConfig } from '../../src/config/task.js';
import { resolveTask } from '../../src/train/task.js';
import { storedTask, train } from '../../src/train/train.js';
import { readKnobInput } from '../../src/segmenters/knob-input.js';
import { runCli } from './run-cli.js';
import { captureOutput as captured } from '../fixtures/capture-output.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const BUDGET = 48;

/**
 * End to end on tiny synthetic frames whose labels the task never sees: a physics reward
 * (size, shape, coverage, overlap; no labels) tunes pred_iou × stability, and the tuned knobs
 * must segment better against the hidden truth than SAM's defaults (0.88 / 0.95).
 */
describe('samstar train (end to end, bundled model)', () => {
  let dir: string;
  let images: string[];
  let labels: string[];
  let config: string;
  const out = (): string => join(dir, 'run');
  let segmenter: SamSegmenter;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'samstar-train-'));
    const written = await writeSynthDataset(join(dir, 'data'), { frames: 3, width: 128, height: 128, count: 6, diameter: { median: 16, sigma: 0.2 } }, 100);
    images = written.images;
    labels = written.labels;
    config = join(dir, 'task.yaml');
    writeFileSync(
      config,
      stringify({
        name: 'tiny',
        data: { frames: 'data/images/*.png' },
        segmenter: {
          name: 'sam',
          fixed: { points_per_side: 8 },
          tune: { pred_iou_thresh: { min: 0.3, max: 0.98 }, stability_score_thresh: { min: 0.3, max: 0.98 } },
        },
        reward: {
          measure: { foreground: 'bright' },
          terms: {
            size: { type: 'size', target: { distribution: 'lognormal', median: 16, sigma: 0.25 }, tolerance: 0.3 },
            shape: { type: 'shape', solidity: { min: 0.9 }, aspect_ratio: { max: 2.5 } },
            coverage: { type: 'coverage' },
            overlap: { type: 'overlap' },
          },
          total: '0.35*size + 0.3*shape + 0.35*coverage - 0.2*overlap',
        },
        agent: { name: 'cmaes', options: { popsize: 6 } },
        budget: BUDGET,
        seed: 1,
      }),
    );
  });

  it('stops cleanly on Ctrl-C and says how to resume; `--resume` ends with the evaluations of an uninterrupted run', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), 'train', '--config', config, '--out', out()], {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    let stderr = '';
    let sent = false;
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Ctrl-C as soon as the first evaluation is reported (non-TTY progress prints "train: 1/48").
    child.stderr.on('data', (d) => {
      stderr += String(d);
      if (!sent && /train: \d+\/48/.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/interrupted after (\d+) evaluation/);
    expect(stderr).toContain(`resume with: samstar train --config ${config} --out`);
    const interruptedAt = Number(/interrupted after (\d+)/.exec(stderr)![1]);
    expect(interruptedAt).toBeGreaterThan(0);
    expect(interruptedAt).toBeLessThan(BUDGET);
    const reader = StudyStore.open(join(out(), 'study.sqlite'), { readonly: true });
    expect(reader.study().status).toBe('interrupted');
    expect(reader.evaluationCount(reader.study().id)).toBe(interruptedAt);
    reader.close();

    const task = await resolveTask(await loadTaskConfig(config));
    await expect(train(task, { out: out() })).rejects.toThrow(/already holds a study/);

    // The same task uninterrupted, in this process; its segmenter (and stage caches) is shared below.
    segmenter = await SamSegmenter.load({ intraOpThreads: 1 });
    const reference = await train(task, { out: join(dir, 'reference'), segmenter });
    expect(reference.run.status).toBe('finished');
    // Resume the interrupted run with its stored task (what `--resume` without --config does).
    const resumed = await train(storedTask(out()), { out: out(), resume: true, segmenter });
    expect(resumed.run).toMatchObject({ status: 'finished', replayed: interruptedAt, evaluations: BUDGET });
    const read = (path: string): unknown[] => {
      const store = StudyStore.open(path, { readonly: true });
      const rows = store.evaluations(store.study().id).map((e: EvaluationRecord) => [e.index, e.generation, e.candidate, e.x, e.knobs, e.total, e.terms, e.frames]);
      store.close();
      return rows;
    };
    const resumedRows = read(join(out(), 'study.sqlite'));
    expect(resumedRows).toHaveLength(BUDGET);
    expect(resumedRows).toEqual(read(reference.paths.study));

    // `samstar train --out DIR --resume` through the command handler: the finished study replays, nothing is evaluated again.
    const again = await captured(() => (trainCommand.handler as (a: unknown) => Promise<void>)({ out: out(), resume: true, workers: 1, json: false, progress: false }));
    expect(again.stderr).toContain(`${BUDGET} stored evaluation(s) to replay`);
    expect(again.stdout).toMatch(/study "tiny" \(cmaes, seed 1\): finished after 48\/48 evaluations/);
    expect(again.stdout).toContain('best knobs');
    expect(read(join(out(), 'study.sqlite'))).toEqual(resumedRows);
  });

  it('writes best-knobs.json that `segment --knobs` accepts; the physics reward beats the default knobs on the hidden labels', async () => {
    const best = JSON.parse(readFileSync(join(out(), 'best-knobs.json'), 'utf8'));
    expect(best).toMatchObject({ study: 'tiny', evaluations: BUDGET });
    expect(best.knobs.points_per_side).toBe(8);
    expect(Object.keys(best.tuned)).toEqual(['pred_iou_thresh', 'stability_score_thresh']);
    const summary = JSON.parse(readFileSync(join(out(), 'summary.json'), 'utf8'));
    expect(summary.best.total).toBeGreaterThan(summary.default.total);
    expect(summary.best.total).toBe(best.reward);

    const seg = runCli(['segment', images[0], '--out', join(dir, 'seg-best'), '--knobs', join(out(), 'best-knobs.json')]);
    expect(seg.status).toBe(0);
    const written = JSON.parse(readFileSync(join(dir, 'seg-best', `${basename(images[0], '.png')}.json`), 'utf8'));
    expect(written.knobs).toEqual(best.knobs);

    // Score the tuned and the default knobs (SAM's 0.88 / 0.95, same prompts) against the labels the run never saw.
    const { values, source } = await readKnobInput(join(out(), 'best-knobs.json'));
    const tunedKnobs = segmenter.knobs.resolve(values, source);
    const tuned: ReturnType<typeof scorePrediction>[] = [];
    const defaults: ReturnType<typeof scorePrediction>[] = [];
    for (const [i, image] of images.entries()) {
      const frame = await loadFrame(image);
      const truth = await readLabelPng(labels[i]);
      tuned.push(scorePrediction(await segmenter.segment(frame, tunedKnobs), truth));
      defaults.push(scorePrediction(await segmenter.segment(frame, { points_per_side: 8 }), truth));
    }
    // The CLI's label image of frame 0 agrees with the in-process segmentation.
    const cliScore = scorePrediction(await readLabelPng(join(dir, 'seg-best', `${basename(images[0], '.png')}.labels.png`)), await readLabelPng(labels[0]));
    expect(cliScore.msa).toBeCloseTo(tuned[0].msa!, 10);
    await segmenter.dispose();
    const msaTuned = meanScores(tuned).msa!;
    const msaDefault = meanScores(defaults).msa!;
    console.log(
      `[train e2e] physics reward default ${summary.default.total.toFixed(4)} → best ${summary.best.total.toFixed(4)}; ` +
        `hidden-label mSA default ${msaDefault.toFixed(4)} → tuned ${msaTuned.toFixed(4)}; F1 ${meanScores(defaults).f1.toFixed(3)} → ${meanScores(tuned).f1.toFixed(3)}; ` +
        `best knobs ${JSON.stringify(best.tuned)}`,
    );
    expect(msaTuned).toBeGreaterThan(msaDefault + 0.1);
  });

  it('lists and shows stored studies (the `studies` command handlers, in-process)', async () => {
    const printed = async (args: Record<string, unknown>): Promise<string> =>
      (await captured(() => (studiesCommand.handler as (a: unknown) => Promise<void>)({ json: false, ...args }))).stdout;
    expect(await printed({ target: dir })).toMatch(/tiny\s+cmaes\s+48\/48\s+-?\d\.\d{4}\s+-?\d\.\d{4}\s+finished/);
    const show = await printed({ target: 'show', path: out() });
    expect(show).toContain('study "tiny"');
    expect(show).toMatch(/best knobs \(evaluation #\d+, generation \d+\): pred_iou_thresh [\d.]+, stability_score_thresh [\d.]+/);
    const json = JSON.parse(await printed({ target: 'show', path: join(out(), 'study.sqlite'), json: true }));
    expect(json.history.generations).toHaveLength(BUDGET / 6);
    expect(json.best.knobs).toEqual(JSON.parse(readFileSync(join(out(), 'best-knobs.json'), 'utf8')).tuned);
  });
});
