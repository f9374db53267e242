import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { agentKind, buildCompareSummary, compareCsv, framesPerEvaluationOf, type CompareSummary, type PolicyInit } from '../compare/summary.js';
import { parseFrameRef } from '../image/frame-ref.js';
import { KnobSpace } from '../segmenters/knobs.js';
import { loadCompareRuns, loadRun, PLAN_FILE, readPlan, STUDY_FILE } from '../compare/load.js';
import { loadTaskSegmenter } from '../segmenters/registry.js';
import { ArmSegmenters, armSegmenter, armTask } from '../compare/arms.js';
import type { Segmenter } from '../segmenters/types.js';
import { StudyStore } from '../store/index.js';
import { storedWarmStart } from '../train/summary.js';
import { withSegmenter, type ResolvedTask } from '../train/task.js';
import { paretoOfStudy } from '../train/multi-objective.js';
import type { ParetoFile } from '../train/pareto-file.js';
import { SamstarError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { renderReport, withSizes } from './render.js';
import { computeVisuals, type KnobSet, type ReportVisuals } from './visuals.js';

/**
 * A report from a summary: the pictures that need the segmenter (size
 * histograms, overlays), the summary file with their statistics, then the
 * plots and report.html. And `samstar report PATH`: the same for a stored
 * comparison folder or a single training run.
 */
export interface BuildReportOptions {
  readonly out: string;
  readonly summary: CompareSummary;
  readonly task: ResolvedTask;
  /** The segmenter for the pictures (default: the task's, loaded and disposed here). */
  readonly segmenter?: Segmenter;
  /** More loaded segmenters, for the columns of a comparison of several segmenters ("blobs+cmaes"); the missing ones are loaded here. */
  readonly segmenters?: readonly Segmenter[];
  /** Leave out the size histograms and overlays, saying why. */
  readonly skipPictures?: string;
  readonly overlayFrames?: number;
  readonly histogramFrames?: number;
  readonly title?: string;
  readonly command?: string;
  /** Where the summary is written, relative to `out` (summary.json for a comparison, report.json for a study). */
  readonly summaryFile: string;
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
  /** A multi-objective study's front, drawn with the chosen point and the default knobs. */
  readonly pareto?: ParetoFile;
}

export interface BuiltReport {
  readonly summary: CompareSummary;
  readonly html: string;
  readonly summaryPath: string;
  readonly plots: string[];
}

/**
 * Default knobs and each agent's best run, as full knob vectors: a black-box agent's best knobs; a policy
 * agent's best run's deterministic policy, its own knobs per frame (left out when they do not cover every frame).
 */
export function knobSets(summary: CompareSummary, task: ResolvedTask, segmenter: Segmenter, segmenterOf: (name: string) => Segmenter = () => segmenter): KnobSet[] {
  const sets: KnobSet[] = [{ name: 'default', label: 'default', knobs: segmenter.knobs.resolve(task.segmenter.fixed, 'segmenter.fixed') }];
  // A comparison of several segmenters: each other segmenter's default knobs too, and each column on its own segmenter.
  const others = [...new Set(summary.perAgent.map((a) => armSegmenter(a.agent)).filter((n): n is string => n !== undefined && n !== segmenter.name))];
  for (const name of others) {
    const own = segmenterOf(name);
    sets.push({ name: `default-${name}`, label: `default · ${name}`, knobs: own.knobs.resolve(withSegmenter(task, name).segmenter.fixed, `${name} defaults`), segmenter: own });
  }
  const seeded = (text: string, seed: number): string => (summary.seeds.length > 1 ? `${text} (seed ${seed})` : text);
  for (const a of summary.perAgent) {
    const armName = armSegmenter(a.agent) ?? segmenter.name;
    const own = armName === segmenter.name ? undefined : segmenterOf(armName);
    const knobSpace = (own ?? segmenter).knobs;
    const fixed = armTask(task, a.agent).segmenter.fixed;
    if (a.bestRun) {
      sets.push({ name: a.agent, label: seeded(`tuned · ${a.agent}`, a.bestRun.seed), knobs: knobSpace.resolve({ ...fixed, ...a.bestRun.knobs }, `best knobs of ${a.agent}`), ...(own ? { segmenter: own } : {}) });
      continue;
    }
    const best = a.bestPolicy;
    const run = best ? summary.runs.find((r) => r.agent === a.agent && r.seed === best.seed) : undefined;
    const perFrame = run?.policy?.perFrame ?? [];
    if (!best || perFrame.length === 0 || perFrame.length !== task.data.frames.length) continue;
    const knobs = perFrame.map((f, i) => knobSpace.resolve({ ...fixed, ...f.knobs }, `knobs of ${a.agent}'s policy on frame ${i}`));
    const label = summary.seeds.length > 1 ? `${a.agent} (policy, seed ${best.seed}, knobs per frame)` : `${a.agent} (policy, knobs per frame)`;
    sets.push({ name: a.agent, label, knobs: knobs[0], perFrame: knobs, ...(own ? { segmenter: own } : {}) });
  }
  return sets;
}

export async function buildReport(options: BuildReportOptions): Promise<BuiltReport> {
  const { out, task } = options;
  const log = options.log ?? (() => undefined);
  const notes: string[] = [];
  let visuals: ReportVisuals | null = null;
  if (options.skipPictures) notes.push(options.skipPictures);
  else {
    const wanted = Math.min(task.data.frames.length, Math.max(options.histogramFrames ?? 8, options.overlayFrames ?? 3));
    const missing = task.data.frames.slice(0, wanted).filter((f) => !existsSync(parseFrameRef(f).file));
    if (missing.length > 0) notes.push(`size histograms and overlays were skipped: ${missing.length} frame(s) are no longer there (first: ${missing[0]})`);
    else {
      let segmenter = options.segmenter;
      const owns = segmenter === undefined;
      // The other segmenters of a comparison of several (given, or loaded here and disposed below).
      const arms = new ArmSegmenters(task, options.segmenters ?? []);
      try {
        segmenter ??= await loadTaskSegmenter(task.segmenter);
        await arms.preload(options.summary.perAgent.map((a) => a.agent).filter((label) => armSegmenter(label) !== segmenter!.name));
        log('report: segmenting a few frames with the default and tuned knobs (size histograms, overlays)');
        visuals = await computeVisuals({
          segmenter,
          task,
          sets: knobSets(options.summary, task, segmenter, (name) => arms.loaded(name)),
          overlayFrames: options.overlayFrames,
          histogramFrames: options.histogramFrames,
          signal: options.signal,
        });
      } catch (error) {
        if (error instanceof SamstarError && error.code !== 'IO_ERROR' && error.code !== 'IMAGE_NOT_FOUND' && error.code !== 'MODEL_NOT_FOUND') throw error;
        notes.push(`size histograms and overlays were skipped: ${(error as Error).message}`);
      } finally {
        if (owns && segmenter) await segmenter.dispose();
        await arms.dispose();
      }
    }
  }
  const summary = withSizes(options.summary, visuals);
  const summaryPath = join(out, options.summaryFile);
  await writeFileAtomic(summaryPath, `${JSON.stringify(summary, null, 2)}\n`);
  log('report: plots (Vega-Lite → SVG, PNG) and report.html');
  const rendered = await renderReport({ out, summary, visuals, title: options.title, notes, command: options.command, summaryFile: options.summaryFile, pareto: options.pareto });
  return { summary, html: rendered.html, summaryPath, plots: rendered.plots };
}

export interface ReportFromPathOptions {
  /** Folder for the report (default: the comparison folder, or the run folder of the study). */
  readonly out?: string;
  /** The study's name when the file holds several. */
  readonly study?: string;
  readonly segmenter?: Segmenter;
  /** Leave out the pictures (no segmenter is loaded). */
  readonly pictures?: boolean;
  readonly overlayFrames?: number;
  readonly histogramFrames?: number;
  readonly title?: string;
  readonly command?: string;
  readonly log?: (line: string) => void;
}

export interface ReportFromPathResult extends BuiltReport {
  readonly kind: 'compare' | 'study';
}

/** `samstar report PATH`: a comparison folder (compare.json), a run folder (study.sqlite) or a study file. */
export async function reportFromPath(target: string, options: ReportFromPathOptions = {}): Promise<ReportFromPathResult> {
  const path = resolve(target);
  if (!existsSync(path)) throw new SamstarError('IO_ERROR', `${target} does not exist`, { hint: 'give a samstar compare folder, a samstar train run folder, or a study.sqlite' });
  const isDir = statSync(path).isDirectory();
  const common = {
    segmenter: options.segmenter,
    skipPictures: options.pictures === false ? 'size histograms and overlays were not drawn (--no-pictures)' : undefined,
    overlayFrames: options.overlayFrames,
    histogramFrames: options.histogramFrames,
    title: options.title,
    command: options.command,
    log: options.log,
  };

  if (isDir && existsSync(join(path, PLAN_FILE))) {
    const plan = await readPlan(path);
    const runs = await loadCompareRuns(path, plan);
    let wallSeconds: number | null = null;
    try {
      const previous = JSON.parse(await readFile(join(path, 'summary.json'), 'utf8')) as CompareSummary;
      wallSeconds = previous.wallSeconds ?? null;
    } catch {
      wallSeconds = null;
    }
    const summary = buildCompareSummary({ kind: 'compare', task: plan.task, agents: plan.agents, seeds: plan.seeds, budget: plan.budget, runs, wallSeconds, policyInit: plan.policyInit });
    const out = resolve(options.out ?? path);
    const built = await buildReport({ ...common, out, summary, task: plan.task, summaryFile: 'summary.json' });
    await writeFileAtomic(join(out, 'summary.csv'), compareCsv(built.summary));
    return { ...built, kind: 'compare' };
  }

  const studyPath = isDir ? join(path, STUDY_FILE) : path;
  if (!existsSync(studyPath)) {
    throw new SamstarError('IO_ERROR', `${target} holds neither a study (${STUDY_FILE}) nor a comparison (${PLAN_FILE})`, {
      hint: 'give the --out folder of samstar train or samstar compare, or a study.sqlite',
    });
  }
  const store = StudyStore.open(studyPath, { readonly: true });
  let study;
  let pareto: ParetoFile | undefined;
  try {
    study = store.study(options.study);
    pareto = paretoOfStudy(store, study);
  } finally {
    store.close();
  }
  const task = study.config as ResolvedTask;
  if (!task || !Array.isArray(task.knobSpace) || !task.data) {
    throw new SamstarError('CONFIG_INVALID', `study "${study.name}" in ${studyPath} has no stored task config`, { hint: 'studies written by samstar train store their task' });
  }
  const out = resolve(options.out ?? dirname(studyPath));
  const folder = relative(out, studyPath) || basename(studyPath);
  const run = await loadRun(studyPath, { agent: study.agent, seed: study.seed, folder, study: options.study });
  // The summary's budget is in evaluations of S frames; a policy study's is in visits of one frame, F of
  // which more go to scoring its final policy (as in a comparison: RunSummary.budget).
  const visitsOrEvaluations = study.budget ?? task.budget;
  const budget =
    agentKind(study.agent) === 'policy' ? (visitsOrEvaluations + Math.max(1, task.data.frames.length)) / framesPerEvaluationOf(task) : visitsOrEvaluations;
  const summary = buildCompareSummary({ kind: 'study', task, agents: [study.agent], seeds: [study.seed], budget, runs: [run], policyInit: policyInitOfStudy(study, task) });
  const built = await buildReport({ ...common, out, summary, task, summaryFile: 'report.json', pareto });
  return { ...built, kind: 'study' };
}

/**
 * Where a policy study started: trainPolicy stores a warm start (`samstar train --init-policy`) with the
 * study's default-knob record, so a policy study without one started from scratch (null). Black-box
 * studies have no policy start (undefined: the report says nothing).
 */
function policyInitOfStudy(study: { agent: string; default?: { extra?: unknown } | null }, task: ResolvedTask): PolicyInit | null | undefined {
  if (agentKind(study.agent) !== 'policy') return undefined;
  const init = storedWarmStart(study);
  if (!init) return study.default ? null : undefined;
  // Studies from before the folder was stored with the start leave the path empty.
  return { path: init.path ?? '', source: init.source ?? 'a warm start', x: [...init.x], knobs: new KnobSpace(task.knobSpace).fromNormalised(init.x) };
}
