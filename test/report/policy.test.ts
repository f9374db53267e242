import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CompareSummary } from '../../src/compare/summary.js';
import { encodeRle } from '../../src/masks/rle.js';
import { formatNumber } from '../../src/report/html.js';
import { knobRows, reportPlots } from '../../src/report/plots.js';
import { buildReport, knobSets, reportFromPath } from '../../src/report/report.js';
import { renderReport, withSizes } from '../../src/report/render.js';
import { samKnobSpace } from '../../src/segmenters/sam/knob-specs.js';
import type { KnobValues } from '../../src/segmenters/knobs.js';
import type { Segmenter } from '../../src/segmenters/types.js';
import { StudyStore } from '../../src/store/index.js';
import type { ResolvedTask } from '../../src/train/task.js';
import { syntheticPolicyRun, syntheticPolicySummary, syntheticSummary, syntheticTask } from './fixtures.js';
import { expectNumbersMatch, taggedNumbers } from './html-numbers.js';

/**
 * Reports with policy agents (ppo): the page says what the figures of a policy are (the summary's
 * `measures`), marks policy agents, shows the policy's own figures (bestPolicy, its knobs per frame) where a
 * black-box agent shows its best knobs; and a single policy run folder reports without Vega warnings.
 */

/** Everything printed through console.* (Vega's logger writes its warnings there) while `fn` runs. */
async function consoleOutput<T>(fn: () => Promise<T>): Promise<{ result: T; printed: string[] }> {
  const printed: string[] = [];
  const spies = (['warn', 'error', 'log', 'info', 'debug'] as const).map((method) =>
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      printed.push(`${method}: ${args.map(String).join(' ')}`);
    }),
  );
  try {
    return { result: await fn(), printed };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

/** The visible text of an HTML fragment (tags dropped, entities decoded, spaces collapsed). */
function textOf(html: string): string {
  return html
    .replace(/<br\s*\/?>/g, ' ')
    .replace(/<[^>]+>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

function sectionOf(html: string, id: string): string {
  const m = new RegExp(`<section id="${id}">([\\s\\S]*?)</section>`).exec(html);
  expect(m, `section #${id}`).not.toBeNull();
  return m![1];
}

/** Rows of a table as cell HTML. */
function rowsOf(html: string, tableId: string): string[][] {
  const table = new RegExp(`<table id="${tableId}">([\\s\\S]*?)</table>`).exec(html);
  expect(table, `table #${tableId}`).not.toBeNull();
  return [...table![1].matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((r) => [...r[1].matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) => c[1]));
}

/** A segmenter without a model: one disc per frame whose radius follows pred_iou_thresh; it records the knobs per frame width. */
function discSegmenter(calls: { width: number; knobs: KnobValues }[]): Segmenter {
  return {
    name: 'discs',
    knobs: samKnobSpace(),
    segment: async (frame, knobs) => {
      calls.push({ width: frame.width, knobs });
      const r = 3 + 12 * Number(knobs.pred_iou_thresh);
      const data = new Uint8Array(frame.width * frame.height);
      const c = frame.width / 2;
      for (let y = 0; y < frame.height; y++) for (let x = 0; x < frame.width; x++) data[y * frame.width + x] = (x - c) ** 2 + (y - c) ** 2 <= r * r ? 1 : 0;
      const segmentation = encodeRle({ width: frame.width, height: frame.height, data });
      const area = data.reduce((a, v) => a + v, 0);
      const instance = { segmentation, area, bbox: [c - r, c - r, 2 * r, 2 * r] as [number, number, number, number], predicted_iou: 0.9, stability_score: 0.9, point_coords: [[c, c]] as [number, number][], crop_box: [0, 0, frame.width, frame.height] as [number, number, number, number] };
      return { width: frame.width, height: frame.height, instances: [instance], knobs, timings: {} };
    },
    dispose: async () => undefined,
  };
}

/** The synthetic task on two real frames of different widths (64 and 48 px), without labels. */
async function taskWithFrames(dir: string): Promise<ResolvedTask> {
  mkdirSync(join(dir, 'frames'), { recursive: true });
  const frames: string[] = [];
  for (const [i, size] of [64, 48].entries()) {
    const path = join(dir, 'frames', `frame-000${i}.png`);
    const grey = new Uint8Array(size * size).map((_, k) => (k * 37) % 200);
    await sharp(grey, { raw: { width: size, height: size, channels: 1 } }).png().toFile(path);
    frames.push(path);
  }
  const base = syntheticTask();
  return { ...base, data: { frames } };
}

describe('a comparison report with a policy agent (cmaes, ppo)', () => {
  let dir: string;
  let task: ResolvedTask;
  let summary: CompareSummary;
  let html: string;
  let printed: string[];
  const calls: { width: number; knobs: KnobValues }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'samstar-report-policy-'));
    task = await taskWithFrames(dir);
    const built = await consoleOutput(() =>
      buildReport({ out: dir, summary: syntheticPolicySummary({ task }), task, segmenter: discSegmenter(calls), summaryFile: 'summary.json', overlayFrames: 2, histogramFrames: 2 }),
    );
    printed = built.printed;
    summary = built.result.summary;
    html = readFileSync(built.result.html, 'utf8');
  });

  it('the fixture is what the page is about: ppo a policy agent with bestPolicy and no bestRun', () => {
    expect(summary.perAgent.map((a) => [a.agent, a.kind, a.bestRun === null, a.bestPolicy === null])).toEqual([
      ['cmaes', 'black-box', false, true],
      ['ppo', 'policy', true, false],
    ]);
    expect(summary.runs.filter((r) => r.agent === 'ppo').every((r) => r.policy?.perFrame.length === 2)).toBe(true);
  });

  it('explains the measures next to the summary table, in the words of summary.json', () => {
    const section = sectionOf(html, 'summary');
    const note = /<div class="measures" id="measures">([\s\S]*?)<\/div>/.exec(section);
    expect(note, 'the measures note is in the summary section').not.toBeNull();
    const text = textOf(note![1]);
    for (const words of [summary.measures.final, summary.measures.cost, summary.measures.convergence]) expect(text).toContain(words);
    expect(text).toContain('Black-box agents and policy agents (ppo) on the same footing');
    // S is tagged with its place in summary.json.
    expect(note![1]).toContain('data-path="measures.framesPerEvaluation"');
    // Right after the table, inside its section.
    expect(section.indexOf('id="measures"')).toBeGreaterThan(section.indexOf('</table>'));
  });

  it('labels the policy agent as such in every table and the header', () => {
    const summaryRows = rowsOf(html, 'summary-table');
    const ppoRow = summaryRows.find((r) => textOf(r[0]).startsWith('ppo'))!;
    expect(textOf(ppoRow[0])).toBe('ppo (policy)');
    expect(textOf(summaryRows.find((r) => textOf(r[0]).startsWith('cmaes'))![0])).toBe('cmaes');
    expect(html).toContain('data-agent="ppo" data-kind="policy"');
    expect(textOf(/<p class="meta">agents ([\s\S]*?)<\/p>/.exec(html)![1])).toMatch(/^cmaes, ppo \(policy\) ·/);
    expect(textOf(rowsOf(html, 'tests-table')[1].slice(0, 2).join(' | '))).toBe('cmaes | ppo (policy)');
    for (const run of rowsOf(html, 'runs-table').slice(1).filter((r) => textOf(r[0]).startsWith('ppo'))) expect(textOf(run[0])).toBe('ppo (policy)');
    // The header's budget names its unit.
    expect(textOf(/<p class="meta">task[\s\S]*?<\/p>/.exec(html)![0])).toContain(`budget ${summary.budget} evaluations of 2 frame(s) per run`);
  });

  it('default vs tuned: the policy column holds bestPolicy (its deterministic policy), not default knobs', () => {
    const rows = rowsOf(html, 'default-vs-tuned-table');
    const header = rows[0].map(textOf);
    expect(header).toHaveLength(4);
    expect(header[2]).toBe('tuned · cmaes (seed 1)');
    expect(header[3]).toMatch(/^ppo \(policy\) \(seed \d\) deterministic policy, knobs per frame$/);
    const ppo = summary.perAgent[1].bestPolicy!;
    const reward = rows.find((r) => textOf(r[0]) === 'reward')!;
    expect(reward[3]).toContain('data-path="perAgent.1.bestPolicy.total"');
    expect(textOf(reward[3])).toBe(formatNumber(ppo.total, 'reward'));
    expect(ppo.total).not.toBe(summary.default!.total);
    const msa = rows.find((r) => textOf(r[0]).startsWith('mSA'))!;
    expect(msa[3]).toContain('data-path="perAgent.1.bestPolicy.labelScores.msa"');
    for (const term of Object.keys(ppo.terms)) expect(html).toContain(`data-path="perAgent.1.bestPolicy.terms.${term}"`);
    expect(html).not.toMatch(/data-path="perAgent\.1\.bestRun/);
  });

  it('knobs: the policy column is the range of its per-frame choices; the plot draws them without warnings', () => {
    const i = summary.runs.findIndex((r) => r.agent === 'ppo' && r.seed === summary.perAgent[1].bestPolicy!.seed);
    const perFrame = summary.runs[i].policy!.perFrame;
    const rows = rowsOf(html, 'knobs-table');
    expect(textOf(rows[0][4])).toMatch(/^ppo \(policy\) \(per frame, seed \d\)$/);
    const pred = rows.find((r) => textOf(r[0]) === 'pred_iou_thresh')!;
    const values = perFrame.map((f) => f.knobs.pred_iou_thresh as number);
    expect(textOf(pred[4])).toBe(`${formatNumber(Math.min(...values), 'knob')}–${formatNumber(Math.max(...values), 'knob')}`);
    expect(pred[4]).toContain(`data-path="runs.${i}.policy.perFrame.0.knobs.pred_iou_thresh"`);
    // Plot rows: one per frame and knob for each finished ppo run; every knob layer has data.
    expect(knobRows(summary).filter((r) => r.kind === 'policy')).toHaveLength(2 * 2 * 2);
    const knobsSvg = readFileSync(join(dir, 'plots', 'knobs.svg'), 'utf8');
    // On the y axis of each knob and in the legend.
    expect(knobsSvg.match(/>ppo \(policy\)<\/text>/g)?.length).toBe(3);
    expect(printed).toEqual([]);
  });

  it('axis titles say what an evaluation is; the final figure plot says what is compared', () => {
    const convergence = readFileSync(join(dir, 'plots', 'convergence.svg'), 'utf8');
    expect(convergence).toContain('evaluations (units of 2 frame(s): one black-box evaluation or 2 policy visit(s))');
    expect(convergence).toContain('best all-frames mean reward so far');
    expect(convergence).toContain('last its deterministic policy on every frame');
    const finals = readFileSync(join(dir, 'plots', 'final-rewards.svg'), 'utf8');
    expect(finals).toContain('Final figure per run');
    expect(finals).toContain('deterministic policy');
    // Without policy agents the titles stay as they were.
    const plain = reportPlots(syntheticSummary(), null);
    expect(JSON.stringify(plain.find((p) => p.name === 'convergence')!.spec)).toContain('"title":"evaluations"');
  });

  it('runs table: a policy run\'s evaluations in units (its visits beside), its knobs per frame', () => {
    const runs = rowsOf(html, 'runs-table');
    const i = summary.runs.findIndex((r) => r.agent === 'ppo');
    const run = summary.runs[i];
    const row = runs.find((r) => textOf(r[0]).startsWith('ppo'))!;
    expect(textOf(row[3])).toBe(`${run.evaluations}/${run.budget} (${run.visits} visits)`);
    expect(textOf(row[4])).toBe(`${formatNumber(run.best!.total, 'reward')} policy`);
    expect(textOf(row[row.length - 2])).toMatch(/^per frame: pred_iou_thresh [\d.]+–[\d.]+, stability_score_thresh [\d.]+–[\d.]+$/);
  });

  it('pictures: the policy is drawn with its own knobs on each frame', () => {
    const sets = knobSets(summary, task, discSegmenter([]));
    expect(sets.map((s) => s.label)).toEqual(['default', 'tuned · cmaes (seed 1)', `ppo (policy, seed ${summary.perAgent[1].bestPolicy!.seed}, knobs per frame)`]);
    const run = summary.runs.find((r) => r.agent === 'ppo' && r.seed === summary.perAgent[1].bestPolicy!.seed)!;
    // computeVisuals segments frame by frame, the sets in order: the third call per frame is ppo's.
    for (const [f, width] of [64, 48].entries()) {
      const onFrame = calls.filter((c) => c.width === width);
      expect(onFrame).toHaveLength(3);
      expect(onFrame[2].knobs.pred_iou_thresh).toBe(run.policy!.perFrame[f].knobs.pred_iou_thresh);
      expect(onFrame[2].knobs.stability_score_thresh).toBe(run.policy!.perFrame[f].knobs.stability_score_thresh);
      expect(onFrame[2].knobs.points_per_side).toBe(16);
    }
    expect(existsSync(join(dir, 'overlays', 'frame-0001.ppo.png'))).toBe(true);
    expect(summary.sizes!.panels.map((p) => p.panel)).toContain(sets[2].label);
    expect(html).toContain('data-overlay="ppo"');
  });

  it('every number on the page is summary.json\'s', () => {
    expect(expectNumbersMatch(html, JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')))).toBeGreaterThan(80);
    expect(new Set(taggedNumbers(html).map((t) => t.path))).toContain('runs.2.visits');
  });

  it('a report without policy agents has no measures note and no "(policy)"', async () => {
    const out = mkdtempSync(join(tmpdir(), 'samstar-report-plain-'));
    const base = syntheticSummary();
    await renderReport({ out, summary: withSizes(base, null), visuals: null });
    const page = readFileSync(join(out, 'report.html'), 'utf8');
    expect(page).not.toContain('id="measures"');
    expect(page).not.toContain('(policy)');
    expect(page).toContain(`budget <span class="num" data-path="budget" data-value="${base.budget}" data-format="mean">${base.budget}</span> evaluations per run`);
  });
});

/** A policy run folder as `samstar train --agent ppo` leaves it: study.sqlite (visits) and summary.json (kind 'policy'). */
function writePolicyRunFolder(dir: string, options: { visits?: number } = {}): void {
  const task = syntheticTask();
  const run = syntheticPolicyRun(1, { budget: 6, visits: options.visits, task });
  mkdirSync(dir, { recursive: true });
  const store = StudyStore.open(join(dir, 'study.sqlite'));
  try {
    const study = store.createStudy({ name: run.study!.name, config: task, seed: 1, agent: 'ppo', agentOptions: {}, knobSpace: task.knobSpace, budget: run.study!.budget! });
    store.setStatus(study.id, 'running');
    store.setDefault(study.id, run.study!.default!);
    store.recordEvaluations(study.id, run.evaluations);
    store.setStatus(study.id, run.trainSummary ? 'finished' : 'interrupted', { stopReasons: run.study!.stopReasons });
  } finally {
    store.close();
  }
  if (run.trainSummary) writeFileSync(join(dir, 'summary.json'), JSON.stringify(run.trainSummary));
}

describe('samstar report on a single policy run folder', () => {
  afterEach(() => vi.restoreAllMocks());

  it('prints no Vega warning: the knob plot shows the policy\'s knobs per frame', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'samstar-report-ppo-')), 'run');
    writePolicyRunFolder(dir);
    const { result, printed } = await consoleOutput(() => reportFromPath(dir, { pictures: false }));
    expect(printed).toEqual([]);
    expect(result.kind).toBe('study');
    const run = result.summary.runs[0];
    expect(run).toMatchObject({ kind: 'policy', status: 'finished', visits: 10, visitBudget: 10, evaluations: 6, budget: 6 });
    // The summary's budget is in the same unit as the run's (evaluations of 2 frames), not the study's 10 visits.
    expect(result.summary.budget).toBe(6);
    expect(result.plots.map((p) => p.replace(/^.*\//, ''))).toEqual(['convergence.svg', 'convergence.png', 'knobs.svg', 'knobs.png']);
    const svg = readFileSync(join(dir, 'plots', 'knobs.svg'), 'utf8');
    // Two knobs × two frames: four open triangles (the policy's choices), besides the default's crosses.
    expect((svg.match(/aria-roledescription="point"/g) ?? []).length).toBeGreaterThanOrEqual(4);
    expect(svg).toContain('open triangle');
    const html = readFileSync(result.html, 'utf8');
    expect(html).toContain('id="measures"');
    expect(html).not.toContain('id="knobs-plot-note"');
    expect(textOf(/<p class="meta">task[\s\S]*?<\/p>/.exec(html)![0])).toContain('budget 6 evaluations of 2 frame(s) per run');
    expectNumbersMatch(html, JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')));
  });

  it('an unfinished policy run has no knobs to plot: the plot is left out with a note, still no warning', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'samstar-report-ppo-partial-')), 'run');
    writePolicyRunFolder(dir, { visits: 5 });
    const { result, printed } = await consoleOutput(() => reportFromPath(dir, { pictures: false }));
    expect(printed).toEqual([]);
    expect(result.summary.runs[0]).toMatchObject({ status: 'interrupted', final: null, policy: null, evaluations: 2.5 });
    expect(existsSync(join(dir, 'plots', 'knobs.svg'))).toBe(false);
    const html = readFileSync(result.html, 'utf8');
    expect(html).toContain('id="knobs-plot-note"');
    // 2.5 evaluations are shown as 2.5, not rounded.
    expect(textOf(rowsOf(html, 'runs-table')[1][3])).toBe('2.5/6 (5 visits)');
  });
});
