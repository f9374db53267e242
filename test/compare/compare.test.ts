import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareWithReport } from '../../src/report/compare-report.js';
import { reportFromPath } from '../../src/report/report.js';
import type { CompareSummary } from '../../src/compare/summary.js';
import { loadTaskConfig } from '../../src/config/task.js';
import { SamSegmenter } from '../../src/segmenters/sam/segmenter.js';
import { StudyStore } from '../../src/store/index.js';
import { resolveTask, type ResolvedTask } from '../../src/train/task.js';
import { expectNumbersMatch } from '../report/html-numbers.js';
import { writeTinyTask } from './tiny.js';

/** compareWithReport (runCompare and its report) in-process: an abort (Ctrl-C's AbortSignal) mid-run leaves a valid partial summary, report and studies; resume completes it. */
describe('compare: abort and resume', () => {
  let dir: string;
  let task: ResolvedTask;
  let segmenter: SamSegmenter;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'samstar-compare-'));
    task = await resolveTask(await loadTaskConfig(await writeTinyTask(dir)));
    segmenter = await SamSegmenter.load();
  });
  afterAll(async () => {
    await segmenter?.dispose();
  });

  it('stops cleanly on abort: partial summary.json, summary.csv, report.html and readable studies', async () => {
    const out = join(dir, 'cmp');
    const controller = new AbortController();
    let live = 0;
    const starts: string[] = [];
    const result = await compareWithReport({
      task,
      agents: ['cmaes', 'random'],
      seeds: 2,
      budget: 6,
      out,
      segmenter,
      signal: controller.signal,
      onRunStart: ({ agent, seed }) => starts.push(`${agent}:${seed}`),
      onEvaluation: () => {
        // Abort in the second run (random, seed 1): runs go seed by seed.
        if (++live === 8) controller.abort();
      },
    });
    expect(starts).toEqual(['cmaes:1', 'random:1']);
    expect(result.partial).toBe(true);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as CompareSummary;
    expect(summary.status).toBe('partial');
    expect(summary.runs.map((r) => `${r.agent}:${r.seed}:${r.status}`)).toEqual(['cmaes:1:finished', 'cmaes:2:not started', 'random:1:interrupted', 'random:2:not started']);
    expect(summary.runs[0].evaluations).toBe(6);
    expect(summary.runs[2].evaluations).toBe(2);
    expect(summary.perAgent[0].best.n).toBe(1);
    // Pictures are skipped on an interrupt (said in the page); the numbers still match.
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('data-status="partial"');
    expect(html).toContain('the comparison was interrupted');
    expectNumbersMatch(html, summary);
    expect(readFileSync(join(out, 'summary.csv'), 'utf8').split('\n')[1]).toMatch(/^cmaes,2,1,/);
    // The interrupted study is a valid, resumable study.
    const store = StudyStore.open(join(out, 'runs', 'random-seed1', 'study.sqlite'), { readonly: true });
    try {
      expect(store.study().status).toBe('interrupted');
      expect(store.evaluations(store.study().id)).toHaveLength(2);
    } finally {
      store.close();
    }
    expect(existsSync(join(out, 'runs', 'cmaes-seed2'))).toBe(false);

    // Resume: the finished run is replayed, the interrupted one continues, the rest run.
    const resumed = await compareWithReport({ task, agents: ['cmaes', 'random'], seeds: 2, budget: 6, out, segmenter, resume: true, histogramFrames: 2, overlayFrames: 1 });
    expect(resumed.partial).toBe(false);
    const done = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as CompareSummary;
    expect(done.status).toBe('complete');
    expect(done.runs.every((r) => r.status === 'finished' && r.evaluations === 6)).toBe(true);
    expect(done.runs[0].best).toEqual(summary.runs[0].best);
    expect(done.sizes?.panels.map((p) => p.panel)).toEqual(['default', 'tuned · cmaes (seed ' + done.perAgent[0].bestRun!.seed + ')', 'tuned · random (seed ' + done.perAgent[1].bestRun!.seed + ')']);
    const page = readFileSync(join(out, 'report.html'), 'utf8');
    expect(page).toContain('data-status="complete"');
    expectNumbersMatch(page, done);

    // `samstar report DIR` redraws a comparison from its stored runs: the same numbers.
    const again = await reportFromPath(out, { segmenter, overlayFrames: 1, histogramFrames: 2 });
    expect(again.kind).toBe('compare');
    const redrawn = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as CompareSummary;
    expect({ ...redrawn, created: '' }).toEqual({ ...done, created: '' });
    expectNumbersMatch(readFileSync(again.html, 'utf8'), redrawn);
  });

  it('refuses a folder that already holds a comparison, and unknown agents', async () => {
    await expect(compareWithReport({ task, agents: ['cmaes'], seeds: 1, budget: 2, out: join(dir, 'cmp'), segmenter })).rejects.toThrow(/already holds a comparison/);
    await expect(compareWithReport({ task, agents: ['cmaes', 'cma'], seeds: 1, budget: 2, out: join(dir, 'x'), segmenter })).rejects.toThrow(/cma/);
  });
});
