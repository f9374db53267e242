import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareWithReport } from '../../src/report/compare-report.js';
import { reportFromPath } from '../../src/report/report.js';
import type { CompareSummary } from '../../src/compare/summary.js';
import { loadTaskConfig } from '../../src/config/task.js';
import { StudyStore } from '../../src/store/index.js';
import { resolveTask, type ResolvedTask } from '../../src/train/task.js';
import { isSamstarError } from '../../src/util/errors.js';
import { writeTinyTask } from './tiny.js';

/**
 * `samstar compare --segmenters sam,blobs`: segmenter × agent × seed on the task's frames,
 * each segmenter tuning its own knobs, side by side in one summary and report.
 */
describe('compare: several segmenters on one task', () => {
  let dir: string;
  let task: ResolvedTask;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'samstar-compare-segmenters-'));
    task = await resolveTask(await loadTaskConfig(await writeTinyTask(dir, { budget: 3 })));
  });

  it('runs each segmenter with each agent on the same frames and reports them side by side', async () => {
    const out = join(dir, 'cmp');
    const starts: string[] = [];
    const result = await compareWithReport({
      task,
      agents: ['random'],
      segmenters: ['sam', 'blobs'],
      seeds: 1,
      budget: 3,
      out,
      overlayFrames: 1,
      histogramFrames: 1,
      onRunStart: ({ agent, seed }) => starts.push(`${agent}:${seed}`),
    });
    expect(starts).toEqual(['sam+random:1', 'blobs+random:1']);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as CompareSummary;
    expect(summary.status).toBe('complete');
    expect(summary.agents).toEqual(['sam+random', 'blobs+random']);
    expect(summary.runs.map((r) => `${r.agent}:${r.status}:${r.evaluations}`)).toEqual(['sam+random:finished:3', 'blobs+random:finished:3']);
    expect(result.summary.perAgent.map((a) => a.agent)).toEqual(['sam+random', 'blobs+random']);
    // Each segmenter's columns, tuned knobs and default figures, side by side.
    expect(summary.segmenters?.map((s) => [s.segmenter, s.columns, s.knobSpace.map((k) => k.name)])).toEqual([
      ['sam', ['sam+random'], task.knobSpace.map((k) => k.name)],
      ['blobs', ['blobs+random'], ['blob_threshold', 'blob_sigma_min', 'blob_sigma_max', 'blob_overlap']],
    ]);
    expect(summary.segmenters?.[0].fixed).toEqual(task.segmenter.fixed);
    expect(summary.segmenters?.every((s) => s.default !== null && Number.isFinite(s.default.total))).toBe(true);
    expect(summary.segmenters?.[0].default?.total).toBe(summary.default?.total);

    // Each run is an ordinary study on its own segmenter: the task's knobs for sam, blob knobs for blobs.
    const studyOf = (label: string): { config: ResolvedTask; knobs: Record<string, unknown>[] } => {
      const store = StudyStore.open(join(out, 'runs', `${label}-seed1`, 'study.sqlite'), { readonly: true });
      try {
        const study = store.study();
        return { config: study.config as ResolvedTask, knobs: store.evaluations(study.id).map((e) => e.knobs) };
      } finally {
        store.close();
      }
    };
    const sam = studyOf('sam+random');
    const blobs = studyOf('blobs+random');
    expect(sam.config.segmenter.name).toBe('sam');
    expect(sam.config.knobSpace.map((k) => k.name)).toEqual(task.knobSpace.map((k) => k.name));
    expect(blobs.config.segmenter.name).toBe('blobs');
    expect(blobs.config.knobSpace.map((k) => k.name)).toEqual(['blob_threshold', 'blob_sigma_min', 'blob_sigma_max', 'blob_overlap']);
    expect(sam.knobs.every((k) => 'pred_iou_thresh' in k && !('radius_scale' in k))).toBe(true);
    expect(blobs.knobs.every((k) => 'radius_scale' in k && !('pred_iou_thresh' in k))).toBe(true);
    // Both ran on the same frames.
    expect(blobs.config.data.frames).toEqual(sam.config.data.frames);
    // The best run of each column carries its own segmenter's tuned knobs.
    expect(Object.keys(summary.perAgent[1].bestRun!.knobs).sort()).toEqual(['blob_overlap', 'blob_sigma_max', 'blob_sigma_min', 'blob_threshold']);

    // The report draws each column on its own segmenter, with each segmenter's defaults.
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('blobs+random');
    expect(html).toContain('default · blobs');
    expect(existsSync(join(out, 'summary.csv'))).toBe(true);
    expect(readFileSync(join(out, 'summary.csv'), 'utf8')).toContain('blobs+random');

    // `samstar report DIR` redraws it from the stored runs, loading the other segmenter itself.
    const again = await reportFromPath(out, { overlayFrames: 1, histogramFrames: 1 });
    expect(again.summary.sizes?.panels.map((p) => p.panel)).toEqual(['default', 'default · blobs', 'tuned · sam+random', 'tuned · blobs+random']);
  });

  it('refuses unknown or repeated segmenters, and a resume with other segmenters', async () => {
    const bad = await compareWithReport({ task, agents: ['random'], segmenters: ['sam', 'blob'], seeds: 1, budget: 3, out: join(dir, 'bad'), report: false }).catch((e: unknown) => e);
    expect(isSamstarError(bad) && bad.message).toMatch(/unknown segmenter "blob"/);
    const twice = await compareWithReport({ task, agents: ['random'], segmenters: ['blobs', 'blobs'], seeds: 1, budget: 3, out: join(dir, 'twice'), report: false }).catch((e: unknown) => e);
    expect(isSamstarError(twice) && twice.message).toMatch(/twice/);
    const other = await compareWithReport({ task, agents: ['random'], segmenters: ['blobs'], seeds: 1, budget: 3, out: join(dir, 'cmp'), resume: true, report: false }).catch((e: unknown) => e);
    expect(isSamstarError(other) && other.message).toMatch(/--resume: .* compares sam\+random, blobs\+random over seeds 1, not blobs\+random/);
  });
});
