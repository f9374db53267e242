import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import yargs from 'yargs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { command as compareCommand } from '../../src/cli/commands/compare.js';
import { compareWithReport } from '../../src/report/compare-report.js';
import { formatCompareSummary } from '../../src/compare/format.js';
import { reportFromPath } from '../../src/report/report.js';
import { buildCompareSummary, curveOf, policyPoints, type CompareSummary, type RunSummary } from '../../src/compare/summary.js';
import { loadTaskConfig } from '../../src/config/task.js';
import { Policy, writeStaticPolicy } from '../../src/policy/policy.js';
import type { KnobSpec } from '../../src/segmenters/knobs.js';
import { samKnobSpace } from '../../src/segmenters/sam/knob-specs.js';
import { SamSegmenter } from '../../src/segmenters/sam/segmenter.js';
import { StudyStore, type EvaluationRecord } from '../../src/store/index.js';
import type { SamstarError } from '../../src/util/errors.js';
import { initFromPolicy, type PolicyTrainSummary } from '../../src/train/policy-train.js';
import type { TrainSummary } from '../../src/train/summary.js';
import { resolveTask, type ResolvedTask } from '../../src/train/task.js';
import { expectNumbersMatch } from '../report/html-numbers.js';
import { syntheticTask } from '../report/fixtures.js';
import { writeTinyTask } from './tiny.js';
import { captureOutput } from '../fixtures/capture-output.js';

function studyOf(path: string): { status: string; budget: number | null; evaluations: EvaluationRecord[]; init: unknown } {
  const store = StudyStore.open(path, { readonly: true });
  try {
    const study = store.study();
    // A policy run stores its warm start with the default knobs' result (policy-train.ts).
    const init = (study.default?.extra as { init?: unknown } | undefined)?.init ?? null;
    return { status: study.status, budget: study.budget, evaluations: store.evaluations(study.id), init };
  } finally {
    store.close();
  }
}

/** A run's figures without the wall times (which differ between two runs of the same thing). */
function figures(run: RunSummary): unknown {
  const reach = Object.fromEntries(Object.entries(run.reach).map(([k, r]) => [k, r ? { ...r, seconds: 0 } : null]));
  return { ...run, seconds: 0, reach, message: null };
}

function expectClose(actual: readonly (number | null)[], expected: readonly (number | null)[]): void {
  expect(actual).toHaveLength(expected.length);
  expected.forEach((v, i) => (v === null ? expect(actual[i]).toBeNull() : expect(actual[i]).toBeCloseTo(v, 12)));
}

const read = (path: string): CompareSummary => JSON.parse(readFileSync(path, 'utf8')) as CompareSummary;

/**
 * Black-box (cmaes) and policy (ppo) agents in one comparison, on two tiny frames (so one
 * evaluation = 2 frames): budget 5 → cmaes makes 5 evaluations (10 frames), ppo 5 × 2 − 2 = 8
 * visits of one frame (4 complete passes, 2 updates of 4) and scores its final policy on both
 * frames (10 frames too).
 */
describe('compare: black-box and policy agents', () => {
  let dir: string;
  let config: string;
  let task: ResolvedTask;
  let segmenter: SamSegmenter;
  let full: CompareSummary;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'samstar-compare-policy-'));
    config = await writeTinyTask(dir);
    const base = await resolveTask(await loadTaskConfig(config));
    // The task's own agent is ppo (its options apply to it); cmaes runs with its defaults.
    task = { ...base, agent: { name: 'ppo', options: { rolloutSize: 4, minibatchSize: 2, epochs: 1 } } };
    segmenter = await SamSegmenter.load();
  });
  afterAll(async () => {
    await segmenter?.dispose();
  });

  it('cmaes,ppo: one summary; the policy run is an ordinary run folder with policy/; its figures are its final policy on all frames', async () => {
    const out = join(dir, 'full');
    const result = await compareWithReport({ task, agents: ['cmaes', 'ppo'], seeds: 1, budget: 5, out, segmenter, overlayFrames: 1, histogramFrames: 1 });
    expect(result.partial).toBe(false);
    full = read(join(out, 'summary.json'));
    expect(full).toMatchObject({ status: 'complete', agents: ['cmaes', 'ppo'], seeds: [1], budget: 5, measures: { framesPerEvaluation: 2 } });
    expect(full.perAgent.map((a) => [a.agent, a.kind, a.finished])).toEqual([['cmaes', 'black-box', 1], ['ppo', 'policy', 1]]);

    // The ppo run folder: study, summary.json (kind policy) and a network policy.
    const folder = join(out, 'runs', 'ppo-seed1');
    const trained = JSON.parse(readFileSync(join(folder, 'summary.json'), 'utf8')) as PolicyTrainSummary;
    expect(trained).toMatchObject({ kind: 'policy', status: 'finished', evaluations: 8, updates: 2, frames: 2 });
    const manifest = JSON.parse(readFileSync(join(folder, 'policy', 'policy.json'), 'utf8')) as { kind: string };
    expect(manifest.kind).toBe('network');
    const visits = studyOf(join(folder, 'study.sqlite'));
    expect(visits.budget).toBe(8);
    expect(visits.evaluations.map((e) => e.frames.length)).toEqual(new Array(8).fill(1));

    // Its figures: the deterministic policy on both frames, never a single visit's reward.
    const ppo = full.runs.find((r) => r.agent === 'ppo')!;
    const final = trained.policy!.total;
    expect(ppo).toMatchObject({ kind: 'policy', status: 'finished', visits: 8, visitBudget: 8, frameEvaluations: 10, evaluations: 5, budget: 5, final });
    expect(ppo.best).toEqual({ total: final, index: null, knobs: {}, terms: trained.policy!.terms, source: 'deterministic policy on all frames' });
    expect(ppo.labelScores).toEqual(trained.policy!.labelScores);
    expect(ppo.labelScores?.msa).toEqual(expect.any(Number));
    expect(ppo.policy?.perFrame).toEqual(trained.policy!.perFrame);
    // Convergence: the best mean over each complete pass (2 visits: both frames once), then the final policy.
    const totals = visits.evaluations.map((e) => e.total);
    const passes = [0, 1, 2, 3].map((p) => (totals[2 * p] + totals[2 * p + 1]) / 2);
    const running = passes.map((_, i) => Math.max(...passes.slice(0, i + 1)));
    expect(ppo.curve).toEqual([...running, Math.max(running[3], final)]);

    // cmaes: 5 evaluations of both frames — the same 10 frames.
    const cmaes = full.runs.find((r) => r.agent === 'cmaes')!;
    const cmaesTotals = studyOf(join(out, 'runs', 'cmaes-seed1', 'study.sqlite')).evaluations.map((e) => e.total);
    expect(cmaes).toMatchObject({ kind: 'black-box', evaluations: 5, frameEvaluations: 10, visits: null, final: Math.max(...cmaesTotals) });
    expect(cmaes.best?.source).toBe('best evaluation');

    // Per agent and the test: the same quantity (the final figure) for both.
    expect(full.perAgent[0].bestValues).toEqual([cmaes.final]);
    expect(full.perAgent[1].bestValues).toEqual([final]);
    expect(full.perAgent[1].bestRun).toBeNull(); // no one knob setting describes a policy
    expect(full.perAgent[1].bestPolicy).toMatchObject({ seed: 1, folder: join('runs', 'ppo-seed1'), total: final });
    expect(full.perAgent[1].evaluations.mean).toBe(5);
    expect(full.tests[0]).toMatchObject({ a: 'cmaes', b: 'ppo', n1: 1, n2: 1, u: cmaes.final! > final ? 1 : cmaes.final! < final ? 0 : 0.5 });
    expect(full.best?.total).toBe(Math.max(cmaes.final!, final));

    // CSV and report: both agents, labelled, the same numbers.
    const csv = readFileSync(join(out, 'summary.csv'), 'utf8').trim().split('\n');
    const header = csv[0].split(',');
    const ppoRow = csv.find((l) => l.startsWith('ppo,'))!.split(',');
    expect(ppoRow[header.indexOf('kind')]).toBe('policy');
    expect(Number(ppoRow[header.indexOf('best_mean')])).toBe(final);
    expect(Number(ppoRow[header.indexOf('frame_evaluations_mean')])).toBe(10);
    expect(Number(ppoRow[header.indexOf('frames_per_evaluation')])).toBe(2);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('data-agent="ppo"');
    expect(html).toContain('data-run="ppo:1"');
    expectNumbersMatch(html, full);

    // Rebuilt from disk (`samstar report DIR`, and `samstar report` of the ppo run folder alone): the same figures.
    const again = await reportFromPath(out, { pictures: false });
    expect(again.kind).toBe('compare');
    expect(again.summary.runs.map(figures)).toEqual(full.runs.map(figures));
    const alone = await reportFromPath(folder, { pictures: false });
    expect(alone.kind).toBe('study');
    expect(alone.summary.runs[0]).toMatchObject({ kind: 'policy', final, curve: ppo.curve, visits: 8, evaluations: 5 });
    expectNumbersMatch(readFileSync(alone.html, 'utf8'), alone.summary);
  });

  it('a comparison interrupted inside the policy run resumes to the same figures as the uninterrupted one', async () => {
    expect(full, 'needs the first test').toBeDefined();
    const out = join(dir, 'resumed');
    const controller = new AbortController();
    let ppoVisits = 0;
    const first = await compareWithReport({
      task,
      agents: ['cmaes', 'ppo'],
      seeds: 1,
      budget: 5,
      out,
      segmenter,
      report: false,
      signal: controller.signal,
      // Stop in ppo's second rollout (after 5 of 8 visits: one update made, which the resume must replay); cmaes (first in the seed) has finished.
      onEvaluation: ({ agent }) => agent === 'ppo' && ++ppoVisits === 5 && controller.abort(),
    });
    expect(first.partial).toBe(true);
    const partial = read(join(out, 'summary.json'));
    const stopped = partial.runs.find((r) => r.agent === 'ppo')!;
    expect(stopped).toMatchObject({ status: 'interrupted', visits: 5, final: null, best: null, frameEvaluations: 5, evaluations: 2.5 });
    // Two complete passes give points; the fifth visit (half a pass) costs but gives none.
    const t = studyOf(join(out, 'runs', 'ppo-seed1', 'study.sqlite')).evaluations.map((e) => e.total);
    expect(stopped.curve).toEqual([(t[0] + t[1]) / 2, Math.max((t[0] + t[1]) / 2, (t[2] + t[3]) / 2)]);
    expect(partial.perAgent[1].bestValues).toEqual([]);
    expect(existsSync(join(out, 'runs', 'ppo-seed1', 'policy'))).toBe(false);
    expect(studyOf(join(out, 'runs', 'ppo-seed1', 'study.sqlite')).status).toBe('interrupted');

    const resumed = await compareWithReport({ task, agents: ['cmaes', 'ppo'], seeds: 1, budget: 5, out, segmenter, resume: true, report: false });
    expect(resumed.partial).toBe(false);
    const done = read(join(out, 'summary.json'));
    expect(existsSync(join(out, 'runs', 'ppo-seed1', 'policy', 'policy.json'))).toBe(true);
    expect(done.runs.map(figures)).toEqual(full.runs.map(figures));
    expect(done.perAgent.map((a) => a.bestValues)).toEqual(full.perAgent.map((a) => a.bestValues));
    expect(done.tests).toEqual(full.tests);
    expect(done.best).toEqual(full.best);
    // The replayed visits are the uninterrupted run's, action for action.
    const same = (e: EvaluationRecord): unknown => ({ index: e.index, x: e.x, frames: e.frames, total: e.total });
    expect(studyOf(join(out, 'runs', 'ppo-seed1', 'study.sqlite')).evaluations.map(same)).toEqual(
      studyOf(join(dir, 'full', 'runs', 'ppo-seed1', 'study.sqlite')).evaluations.map(same),
    );
  });

  it('samstar compare accepts --agents cmaes,ppo', async () => {
    const out = join(dir, 'cli');
    const { stdout: written, stderr: errors } = await captureOutput(() =>
      yargs(['compare', '--config', config, '--agents', 'cmaes,ppo', '--seeds', '1', '--budget', '2', '--out', out, '--no-report', '--no-progress', '--json'])
        .strict()
        .fail((message, error) => {
          throw error ?? new Error(message);
        })
        .command(compareCommand)
        .parseAsync(),
    );
    const summary = JSON.parse(written) as CompareSummary;
    expect(summary).toMatchObject({ status: 'complete', agents: ['cmaes', 'ppo'], budget: 2 });
    // budget 2 × 2 frames: cmaes 2 evaluations; ppo 2 visits + its final policy on both frames.
    expect(summary.runs.map((r) => [r.agent, r.evaluations, r.visits, r.frameEvaluations])).toEqual([['cmaes', 2, null, 4], ['ppo', 2, 2, 4]]);
    expect(errors).toContain('ppo: 2 visits of one frame per run');
    expect(existsSync(join(out, 'runs', 'ppo-seed1', 'policy', 'policy.json'))).toBe(true);
  });

  it('refuses an unknown agent (with a suggestion) and a budget that leaves a policy nothing to learn from', async () => {
    await expect(compareWithReport({ task, agents: ['cmaes', 'ppp'], seeds: 1, budget: 2, out: join(dir, 'x'), segmenter })).rejects.toThrow(/--agents: unknown agent "ppp"/);
    await expect(compareWithReport({ task, agents: ['cmaes', 'ppp'], seeds: 1, budget: 2, out: join(dir, 'x'), segmenter })).rejects.toMatchObject({ hint: expect.stringContaining('"ppo"') });
    await expect(compareWithReport({ task, agents: ['ppo'], seeds: 1, budget: 1, out: join(dir, 'y'), segmenter })).rejects.toMatchObject({
      message: expect.stringMatching(/^budget 1 is too small for ppo: a policy run gets budget × 2 frames, 2 of them for scoring its final policy/),
      hint: 'give a budget of at least 2',
    });
    expect(existsSync(join(dir, 'y'))).toBe(false);
  });

  /** A static policy folder for the tiny task (its two tuned knobs, or `knobSpace`), as samstar train writes for cmaes. */
  async function staticPolicy(name: string, knobs: Record<string, number>, knobSpace: readonly KnobSpec[] = task.knobSpace): Promise<string> {
    const folder = join(dir, 'static', name);
    await writeStaticPolicy(folder, { segmenter: 'sam', knobSpace, fixed: task.segmenter.fixed, knobs, provenance: { agent: { name: 'cmaes', options: {} }, seed: 1, created: '2025-01-01T00:00:00.000Z' } });
    return folder;
  }
  const aborted = (): AbortSignal => AbortSignal.abort();

  it('--init-policy: every ppo run starts at the static policy\'s knobs, black-box runs ignore it, and the summary, text and report say so', async () => {
    // Knobs far from the middle of the box (normalised ≈ +0.76, −0.71), where a policy from scratch starts (≈ 0).
    const folder = await staticPolicy('far', { pred_iou_thresh: 0.9, stability_score_thresh: 0.4 });
    const expected = await initFromPolicy(resolve(folder), task);
    expect(expected.x.map(Math.abs).every((v) => v > 0.5)).toBe(true);
    const id = (await Policy.load(folder)).id;
    // A narrow exploration noise (σ = e⁻⁴ ≈ 0.02 in the normalised box), so that sampled actions sit next to the policy's mean.
    const narrow: ResolvedTask = { ...task, agent: { name: 'ppo', options: { ...task.agent.options, logStdInit: -4 } } };
    const out = join(dir, 'warm');
    // budget 3 × 2 frames: random 3 evaluations; ppo 4 visits (one rollout, learnt from only after its last visit) + the final policy.
    const result = await compareWithReport({ task: narrow, agents: ['random', 'ppo'], seeds: 1, budget: 3, out, segmenter, report: false, initPolicy: folder });
    expect(result.partial).toBe(false);

    // The whole first rollout is sampled before any update: each action is the warm start ± the noise. From scratch it would be ≈ 0.
    const ppoStudy = studyOf(join(out, 'runs', 'ppo-seed1', 'study.sqlite'));
    expect(ppoStudy.evaluations).toHaveLength(4);
    for (const visit of ppoStudy.evaluations) visit.x.forEach((v, i) => expect(Math.abs(v - expected.x[i]), `visit #${visit.index}, knob ${i}`).toBeLessThan(0.15));
    expect(ppoStudy.init).toEqual(expected);
    const trained = JSON.parse(readFileSync(join(out, 'runs', 'ppo-seed1', 'summary.json'), 'utf8')) as PolicyTrainSummary;
    expect(trained.init).toEqual(expected);
    // The black-box run is untouched by it.
    expect(studyOf(join(out, 'runs', 'random-seed1', 'study.sqlite')).init).toBeNull();

    // Plan, summary, printed text and report: which policy, by its id and absolute folder.
    const policyInit = { path: resolve(folder), source: `${id} (${resolve(folder)})`, x: expected.x, knobs: { pred_iou_thresh: expect.closeTo(0.9, 9), stability_score_thresh: expect.closeTo(0.4, 9) } };
    expect(JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')).policyInit).toEqual(policyInit);
    expect(result.summary.policyInit).toEqual(policyInit);
    expect(read(join(out, 'summary.json')).policyInit).toEqual(policyInit);
    expect(formatCompareSummary(result.summary)).toContain(`policy runs started at the static policy ${id} (${resolve(folder)}) (--init-policy): pred_iou_thresh 0.9000, stability_score_thresh 0.4000`);
    const again = await reportFromPath(out, { pictures: false });
    expect(again.summary.policyInit).toEqual(policyInit);
    expect(readFileSync(again.html, 'utf8')).toMatch(new RegExp(`id="policy-init"><b>start</b>: every policy run started at the static policy <code>${id}`));
    // A single run's report reads the start from the run's own study record (the same start, in the task's units).
    const alone = await reportFromPath(join(out, 'runs', 'ppo-seed1'), { pictures: false });
    expect(alone.summary.policyInit).toEqual(policyInit);
    expect(readFileSync(alone.html, 'utf8')).toMatch(new RegExp(`id="policy-init"><b>start</b>: every policy run started at the static policy <code>${id}`));
    // A black-box run's report has no policy start at all.
    const blackBox = await reportFromPath(join(out, 'runs', 'random-seed1'), { pictures: false });
    expect(blackBox.summary.policyInit).toBeUndefined();
    expect(readFileSync(blackBox.html, 'utf8')).not.toContain('id="policy-init"');
    // Without it, the text and report say the policy runs started from scratch (old summaries, without the field, print the same).
    expect(full.policyInit).toBeNull();
    expect(formatCompareSummary(full)).toContain('policy runs started from scratch (no --init-policy)');
    expect(formatCompareSummary({ ...full, policyInit: undefined })).toContain('policy runs started from scratch (no --init-policy)');
    expect(readFileSync(join(dir, 'full', 'report.html'), 'utf8')).toContain('id="policy-init"><b>start</b>: every policy run started from scratch');
  });

  it('--resume needs the comparison\'s own --init-policy, naming both; plans from before the field resume as "none"', async () => {
    const first = await staticPolicy('first', { pred_iou_thresh: 0.8, stability_score_thresh: 0.8 });
    const second = await staticPolicy('second', { pred_iou_thresh: 0.6, stability_score_thresh: 0.7 });
    const [a, b] = [(await Policy.load(first)).id, (await Policy.load(second)).id];
    const out = join(dir, 'warm-resume');
    // Started and stopped at once: the plan is written, no run has begun.
    await compareWithReport({ task, agents: ['ppo'], seeds: 1, budget: 3, out, segmenter, report: false, initPolicy: first, signal: aborted() });
    const resume = (initPolicy?: string): Promise<unknown> => compareWithReport({ task, agents: ['ppo'], seeds: 1, budget: 3, out, segmenter, report: false, resume: true, initPolicy, signal: aborted() });

    const other = (await resume(second).catch((e: unknown) => e)) as SamstarError;
    expect(other).toMatchObject({ code: 'CONFIG_INVALID', hint: `resume with --init-policy ${resolve(first)} (as the comparison started)` });
    expect(other.message).toBe(`--resume: ${resolve(out)} started its policy runs at --init-policy ${a} (${resolve(first)}), not at --init-policy ${b} (${resolve(second)})`);
    await expect(resume()).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(new RegExp(`at --init-policy ${a} .*, not from scratch \\(no --init-policy\\)$`)) });
    await expect(resume(first)).resolves.toBeDefined();

    // A plan written before --init-policy existed has no policyInit: it started from scratch.
    const planPath = join(out, 'compare.json');
    const { policyInit: _, ...old } = JSON.parse(readFileSync(planPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(planPath, JSON.stringify(old));
    await expect(resume()).resolves.toBeDefined();
    await expect(resume(first)).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/started its policy runs from scratch \(no --init-policy\), not at --init-policy policy-/) });
  });

  it('--init-policy without a policy agent is refused (library and CLI), before anything is written', async () => {
    const folder = await staticPolicy('bb', { pred_iou_thresh: 0.8, stability_score_thresh: 0.8 });
    const out = join(dir, 'bb-only');
    await expect(compareWithReport({ task, agents: ['cmaes', 'random'], seeds: 1, budget: 2, out, segmenter, initPolicy: folder })).rejects.toMatchObject({
      code: 'ARGUMENT_INVALID',
      message: '--init-policy warm-starts the policy agents (ppo, reinforce), but --agents cmaes,random has none',
    });
    const stderr = process.stderr.write.bind(process.stderr);
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      const cli = yargs(['compare', '--config', config, '--agents', 'cmaes', '--seeds', '1', '--budget', '2', '--out', out, '--init-policy', folder, '--no-report', '--no-progress'])
        .strict()
        .fail((message, error) => {
          throw error ?? new Error(message);
        })
        .command(compareCommand);
      await expect(cli.parseAsync()).rejects.toThrow(/^--init-policy warm-starts the policy agents \(ppo, reinforce\), but --agents cmaes has none$/);
    } finally {
      process.stderr.write = stderr;
    }
    expect(existsSync(out)).toBe(false);
  });

  it('--init-policy of a policy that does not tune the task\'s knobs, or of no policy, fails before any run folder is written', async () => {
    const space = samKnobSpace();
    const otherKnobs = await staticPolicy('other-knobs', { pred_iou_thresh: 0.8, box_nms_thresh: 0.5 }, [space.spec('pred_iou_thresh'), space.spec('box_nms_thresh')]);
    const out = join(dir, 'mismatch');
    await expect(compareWithReport({ task, agents: ['cmaes', 'ppo'], seeds: 1, budget: 3, out, segmenter, initPolicy: otherKnobs })).rejects.toMatchObject({
      code: 'ARGUMENT_INVALID',
      message: `--init-policy ${resolve(otherKnobs)}: the policy does not tune "stability_score_thresh" (it tunes pred_iou_thresh, box_nms_thresh)`,
    });
    expect(existsSync(out)).toBe(false);
    await expect(compareWithReport({ task, agents: ['ppo'], seeds: 1, budget: 3, out, segmenter, initPolicy: join(dir, 'static', 'nothing') })).rejects.toThrow(
      new RegExp(`^--init-policy: no policy at ${resolve(dir, 'static', 'nothing')}: policy.json is missing`),
    );
    expect(existsSync(out)).toBe(false);
  });
});

describe('policy runs in the summary (stored data only)', () => {
  const study = (agent: string, budget: number, status: 'finished' | 'interrupted' = 'finished') => ({
    id: 1, name: agent, created: '', updated: '', status, seed: 1, agent, agentOptions: {}, knobSpace: [], config: {}, budget,
    default: { total: 0.1, terms: {}, extra: {} }, stopReasons: [], message: null, pid: null, host: null, evaluations: 0, failed: 0, best: null,
  });
  const visit = (index: number, total: number, ms = 10): EvaluationRecord => ({ index, generation: 0, candidate: index, x: [0, 0], knobs: {}, total, terms: {}, frames: [index % 2], ms, created: '' });

  it('pass means and the final policy as curve points; a pass with a failed visit gives none', () => {
    const visits = [visit(0, 0.2), visit(1, 0.4), visit(2, Number.NaN), visit(3, 0.9), visit(4, 0.5), visit(5, 0.7), visit(6, 0.1)];
    const points = policyPoints(visits, 2, 0.65);
    expect(points.map((p) => p.cost)).toEqual([2, 4, 6, 9]);
    expectClose(points.map((p) => p.value), [0.3, null, 0.6, 0.65]);
    expect(points[3].ms).toBe(70);
    // Evaluations of 2 frames: the trailing half pass (visit 6) costs but gives no point; the final policy lands at 9 frames → evaluation 5.
    expectClose(curveOf(points, 2), [0.3, 0.3, 0.6, 0.6, 0.65]);
  });

  it('a policy agent is compared on its final policy; its best single visit is ignored', () => {
    const task = syntheticTask(); // 2 frames, evaluations over both
    const visits = [0.99, 0.1, 0.2, 0.3, 0.4, 0.5].map((t, i) => visit(i, t)); // one lucky frame (0.99)
    const policy = { kind: 'policy', study: 'ppo', evaluations: 6, updates: 1, rolloutSize: 4, policy: { total: 0.5, terms: { size: 0.5 }, perFrame: [] } } as unknown as PolicyTrainSummary;
    const bb = [0.6, 0.7, 0.75, 0.8].map((t, i) => ({ ...visit(i, t), frames: [0, 1] }));
    const summary = buildCompareSummary({
      kind: 'compare',
      task,
      agents: ['cmaes', 'ppo'],
      seeds: [1],
      budget: 4,
      runs: [
        { agent: 'cmaes', seed: 1, folder: 'runs/cmaes-seed1', study: study('cmaes', 4), evaluations: bb },
        { agent: 'ppo', seed: 1, folder: 'runs/ppo-seed1', study: study('ppo', 6), evaluations: visits, trainSummary: policy },
      ],
    });
    expect(summary.best).toEqual({ total: 0.8, agent: 'cmaes', seed: 1 });
    expect(summary.perAgent[1].bestValues).toEqual([0.5]);
    // Pass means 0.545, 0.25, 0.45, then the final policy 0.5 after 8 frames (evaluation 4); 90 % of 0.8 = 0.72: never reached by ppo.
    expectClose(summary.runs[1].curve, [0.545, 0.545, 0.545, 0.545]);
    expect(summary.runs[1].reach['90%']).toBeNull();
    expect(summary.runs[1]).toMatchObject({ evaluations: 4, budget: 4, visits: 6, visitBudget: 6, frameEvaluations: 8 });
    expect(summary.runs[0].reach['90%']).toMatchObject({ evaluations: 3, frameEvaluations: 6 });
    expect(summary.tests[0]).toMatchObject({ u: 1, effect: 1 });
    // The printed table marks the policy agent and says what its figures are.
    const table = formatCompareSummary(summary);
    expect(table).toMatch(/^ppo \(policy\)\s+1\/1\s+0\.5000 ± 0\.0000\s+—/m);
    expect(table).toContain("policy: best = the final deterministic policy's mean reward over all 2 frame(s)");
    expect(table).toContain('a policy run: 6 visits + 2 frames for its final policy');
  });

  it('black-box runs on frame subsets are compared on their best knobs re-scored on all frames', () => {
    const task = { ...syntheticTask(), framesPerEvaluation: 1 }; // 2 frames, 1 per evaluation
    const evaluations = [0.9, 0.5, 0.95].map((t, i) => visit(i, t));
    const stored = { study: 'cmaes', evaluations: 3, best: { index: 2, total: 0.95, terms: {}, knobs: {}, generation: 0, allFrames: { total: 0.6, terms: { size: 0.6 } } } } as unknown as TrainSummary;
    const summary = buildCompareSummary({
      kind: 'compare',
      task,
      agents: ['cmaes'],
      seeds: [1, 2],
      budget: 3,
      runs: [
        { agent: 'cmaes', seed: 1, folder: 'runs/cmaes-seed1', study: study('cmaes', 3), evaluations, trainSummary: stored },
        { agent: 'cmaes', seed: 2, folder: 'runs/cmaes-seed2', study: { ...study('cmaes', 3, 'interrupted'), seed: 2 }, evaluations: evaluations.slice(0, 1) },
      ],
    });
    expect(summary.measures.framesPerEvaluation).toBe(1);
    expect(summary.runs[0]).toMatchObject({ final: 0.6, best: { total: 0.6, index: 2, terms: { size: 0.6 }, source: 'best knobs on all frames' }, frameEvaluations: 3 });
    // Interrupted: only a subset mean is known, which is shown but not compared.
    expect(summary.runs[1]).toMatchObject({ final: null, best: { total: 0.9, source: 'best evaluation on a frame subset' } });
    expect(summary.perAgent[0].bestValues).toEqual([0.6]);
    expect(summary.best).toEqual({ total: 0.6, agent: 'cmaes', seed: 1 });
  });
});
