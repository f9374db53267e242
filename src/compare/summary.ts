import type { ImageScores } from '../measure/evaluate.js';
import type { KnobSpec, KnobValue } from '../segmenters/knobs.js';
import { effectiveStatus, type EvaluationRecord, type StudyInfo } from '../store/index.js';
import type { TrainSummary } from '../train/summary.js';
import type { ResolvedTask } from '../train/task.js';
import { holm, mannWhitneyU, spread, type Spread } from '../report/stats.js';

/**
 * What `DIR/summary.json` of `samstar compare` holds (and `report.json` of
 * `samstar report STUDY`, with one agent and one seed): everything the report
 * shows as a number. Built only from what is stored (the studies, and each
 * run's summary.json for label scores), so it can be rebuilt from disk at any
 * time — after an interruption too.
 */
export const COMPARE_FORMAT = 'samstar-compare';
export const COMPARE_VERSION = 1;

/** Fractions of the best reward found by any agent whose reaching is timed. */
export const REACH_FRACTIONS = [0.9, 0.95] as const;
export type ReachKey = '90%' | '95%';
export const REACH_KEYS: readonly ReachKey[] = ['90%', '95%'];

export type RunStatus = 'finished' | 'interrupted' | 'failed' | 'running' | 'created' | 'not started';

export interface RunReach {
  /** 1-based count of evaluations until the best so far first reached the threshold. */
  readonly evaluations: number;
  /** Summed evaluation wall time until then, seconds. */
  readonly seconds: number;
}

export interface RunSummary {
  readonly agent: string;
  readonly seed: number;
  /** The run folder, relative to the compare folder ("runs/cmaes-seed1"), or the study file for a single study. */
  readonly folder: string;
  readonly status: RunStatus;
  readonly message: string | null;
  readonly evaluations: number;
  readonly budget: number;
  /** Evaluations with a NaN reward. */
  readonly failed: number;
  readonly best: { readonly total: number; readonly index: number; readonly knobs: Record<string, KnobValue>; readonly terms: Record<string, number> } | null;
  readonly reach: Record<ReachKey, RunReach | null>;
  /** Summed evaluation wall time, seconds. */
  readonly seconds: number;
  /** Label scores of this run's best knobs on every labelled frame (null without labels or when the run did not finish). */
  readonly labelScores: ImageScores | null;
  /** Best reward so far after each evaluation (null until the first finite reward). */
  readonly curve: (number | null)[];
}

export interface AgentSummary {
  readonly agent: string;
  /** Planned runs (seeds). */
  readonly runs: number;
  /** Runs that ended by their budget or the agent's own stop. */
  readonly finished: number;
  /** Best reward of each run with a finite one, in seed order. */
  readonly bestValues: number[];
  readonly best: Spread;
  readonly evaluations: Spread;
  readonly seconds: Spread;
  readonly reach: Record<ReachKey, { readonly reached: number; readonly evaluations: Spread; readonly seconds: Spread }>;
  /** Mean ± std over the runs with label scores. */
  readonly labelScores: { readonly msa: Spread; readonly f1: Spread } | null;
  /** The agent's best run: its seed, reward (and terms), tuned knobs and label scores. */
  readonly bestRun: {
    readonly seed: number;
    readonly total: number;
    readonly terms: Record<string, number>;
    readonly knobs: Record<string, KnobValue>;
    readonly labelScores: ImageScores | null;
  } | null;
}

export interface PairTest {
  readonly a: string;
  readonly b: string;
  readonly n1: number;
  readonly n2: number;
  readonly u: number;
  readonly p: number;
  /** Holm-adjusted over all pairs. */
  readonly pHolm: number;
  readonly method: 'exact' | 'normal';
  /** P(a's final best > b's) + ½P(equal), from U. */
  readonly effect: number | null;
}

export interface SizeStats {
  readonly panel: string;
  readonly instances: number;
  readonly median: number | null;
  readonly mean: number | null;
}

export interface CompareSummary {
  readonly format: typeof COMPARE_FORMAT;
  readonly version: number;
  readonly kind: 'compare' | 'study';
  /** 'partial' when a run did not finish (Ctrl-C, failure) or never started. */
  readonly status: 'complete' | 'partial';
  readonly created: string;
  readonly task: {
    readonly name: string;
    readonly source: string;
    readonly frames: number;
    readonly labelled: boolean;
    readonly framesPerEvaluation: number | null;
    readonly knobSpace: KnobSpec[];
    readonly fixed: Record<string, KnobValue>;
    readonly reward: { readonly source: string; readonly total: string | null; readonly terms: string[] };
  };
  readonly agents: string[];
  readonly seeds: number[];
  readonly budget: number;
  readonly default: { readonly total: number; readonly terms: Record<string, number>; readonly knobs: Record<string, KnobValue>; readonly labelScores: ImageScores | null } | null;
  /** The best reward found by any run. */
  readonly best: { readonly total: number; readonly agent: string; readonly seed: number } | null;
  /** Reward thresholds for `reach`: best − (1 − f)·|best| (f·best for a positive best). */
  readonly thresholds: Record<ReachKey, number | null>;
  readonly perAgent: AgentSummary[];
  /** Mann–Whitney U between every pair of agents on their runs' final best rewards. */
  readonly tests: PairTest[];
  readonly runs: RunSummary[];
  /** Size distributions of the default and tuned segmentations (filled in with the report's images). */
  readonly sizes: { readonly property: string; readonly unit: string; readonly frames: number; readonly panels: SizeStats[] } | null;
  /** Wall time of the whole comparison, seconds (null when rebuilt from disk). */
  readonly wallSeconds: number | null;
}

/** One planned run and what is stored of it. */
export interface RunInput {
  readonly agent: string;
  readonly seed: number;
  readonly folder: string;
  /** Null when the run never started. */
  readonly study: StudyInfo | null;
  readonly evaluations: readonly EvaluationRecord[];
  /** The run's summary.json (label scores of its best knobs). */
  readonly trainSummary?: TrainSummary | null;
  /** An error that ended the run, when known. */
  readonly error?: string;
}

export interface BuildCompareInput {
  readonly kind: 'compare' | 'study';
  readonly task: ResolvedTask;
  readonly agents: readonly string[];
  readonly seeds: readonly number[];
  readonly budget: number;
  readonly runs: readonly RunInput[];
  /** Force 'partial' (the comparison was interrupted). */
  readonly interrupted?: boolean;
  readonly wallSeconds?: number | null;
  readonly created?: string;
}

export function reachThreshold(best: number, fraction: number): number {
  return best - (1 - fraction) * Math.abs(best);
}

/** Best-so-far after each evaluation. */
export function bestCurve(evaluations: readonly EvaluationRecord[]): (number | null)[] {
  let best = -Infinity;
  return [...evaluations]
    .sort((a, b) => a.index - b.index)
    .map((e) => {
      if (Number.isFinite(e.total) && e.total > best) best = e.total;
      return Number.isFinite(best) ? best : null;
    });
}

function reachOf(evaluations: readonly EvaluationRecord[], threshold: number | null): RunReach | null {
  if (threshold === null) return null;
  const sorted = [...evaluations].sort((a, b) => a.index - b.index);
  let ms = 0;
  for (let i = 0; i < sorted.length; i++) {
    ms += sorted[i].ms;
    if (Number.isFinite(sorted[i].total) && sorted[i].total >= threshold) return { evaluations: i + 1, seconds: ms / 1000 };
  }
  return null;
}

function runStatus(input: RunInput): RunStatus {
  if (!input.study) return 'not started';
  if (input.error && effectiveStatus(input.study) !== 'interrupted') return 'failed';
  return effectiveStatus(input.study);
}

/** Terms as stored, without non-finite values (JSON has no NaN). */
function finiteTerms(terms: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(terms)) if (Number.isFinite(v)) out[k] = v;
  return out;
}

function pickTuned(knobs: Record<string, KnobValue> | undefined, tuned: readonly string[]): Record<string, KnobValue> {
  const out: Record<string, KnobValue> = {};
  for (const name of tuned) if (knobs && knobs[name] !== undefined) out[name] = knobs[name];
  return out;
}

export function buildCompareSummary(input: BuildCompareInput): CompareSummary {
  const { task } = input;
  const tuned = task.knobSpace.map((s) => s.name);

  // The best reward of every run, and the best of all.
  let overall: { total: number; agent: string; seed: number } | null = null;
  const bestOfRun = input.runs.map((run) => {
    let best: EvaluationRecord | undefined;
    for (const e of run.evaluations) if (Number.isFinite(e.total) && (!best || e.total > best.total || (e.total === best.total && e.index < best.index))) best = e;
    if (best && (!overall || best.total > overall.total)) overall = { total: best.total, agent: run.agent, seed: run.seed };
    return best;
  });
  const overallBest = overall as { total: number; agent: string; seed: number } | null;
  const thresholds = {} as Record<ReachKey, number | null>;
  REACH_KEYS.forEach((key, i) => (thresholds[key] = overallBest ? reachThreshold(overallBest.total, REACH_FRACTIONS[i]) : null));

  const runs: RunSummary[] = input.runs.map((run, i) => {
    const best = bestOfRun[i];
    const status = runStatus(run);
    const reach = {} as Record<ReachKey, RunReach | null>;
    for (const key of REACH_KEYS) reach[key] = reachOf(run.evaluations, thresholds[key]);
    const scores = run.trainSummary?.best?.labelScores ?? null;
    return {
      agent: run.agent,
      seed: run.seed,
      folder: run.folder,
      status,
      message: run.error ?? run.study?.message ?? null,
      evaluations: run.evaluations.length,
      budget: run.study?.budget ?? input.budget,
      failed: run.evaluations.filter((e) => Number.isNaN(e.total)).length,
      best: best ? { total: best.total, index: best.index, knobs: pickTuned(best.knobs, tuned), terms: finiteTerms(best.terms) } : null,
      reach,
      seconds: run.evaluations.reduce((s, e) => s + e.ms, 0) / 1000,
      labelScores: scores && best && run.trainSummary?.best?.index === best.index ? scores : null,
      curve: bestCurve(run.evaluations),
    };
  });

  const perAgent: AgentSummary[] = input.agents.map((agent) => {
    const mine = runs.filter((r) => r.agent === agent);
    const withBest = mine.filter((r) => r.best !== null);
    const bestValues = withBest.map((r) => r.best!.total);
    const reach = {} as AgentSummary['reach'];
    for (const key of REACH_KEYS) {
      const reached = mine.filter((r) => r.reach[key] !== null);
      reach[key] = {
        reached: reached.length,
        evaluations: spread(reached.map((r) => r.reach[key]!.evaluations)),
        seconds: spread(reached.map((r) => r.reach[key]!.seconds)),
      };
    }
    const scored = mine.filter((r) => r.labelScores !== null);
    const top = withBest.reduce<RunSummary | null>((acc, r) => (!acc || r.best!.total > acc.best!.total ? r : acc), null);
    return {
      agent,
      runs: input.seeds.length,
      finished: mine.filter((r) => r.status === 'finished').length,
      bestValues,
      best: spread(bestValues),
      evaluations: spread(mine.filter((r) => r.status !== 'not started').map((r) => r.evaluations)),
      seconds: spread(mine.filter((r) => r.status !== 'not started').map((r) => r.seconds)),
      reach,
      labelScores: scored.length
        ? { msa: spread(scored.map((r) => r.labelScores!.msa ?? Number.NaN)), f1: spread(scored.map((r) => r.labelScores!.f1)) }
        : null,
      bestRun: top ? { seed: top.seed, total: top.best!.total, terms: top.best!.terms, knobs: top.best!.knobs, labelScores: top.labelScores } : null,
    };
  });

  const pairs: Omit<PairTest, 'pHolm'>[] = [];
  for (let i = 0; i < perAgent.length; i++) {
    for (let j = i + 1; j < perAgent.length; j++) {
      const a = perAgent[i];
      const b = perAgent[j];
      const test = mannWhitneyU(a.bestValues, b.bestValues);
      pairs.push({ a: a.agent, b: b.agent, n1: test.n1, n2: test.n2, u: test.u1, p: test.p, method: test.method, effect: test.effect });
    }
  }
  const adjusted = holm(pairs.map((p) => p.p));
  const tests: PairTest[] = pairs.map((p, i) => ({ ...p, pHolm: adjusted[i] }));

  const firstWithDefault = input.runs.find((r) => r.study?.default);
  const defaultResult = firstWithDefault?.study?.default ?? null;
  const defaultExtra = (defaultResult?.extra ?? {}) as { knobs?: Record<string, KnobValue>; labelScores?: ImageScores };
  const partial = input.interrupted === true || runs.some((r) => r.status !== 'finished');
  const rewardConfig = task.reward.config;

  return {
    format: COMPARE_FORMAT,
    version: COMPARE_VERSION,
    kind: input.kind,
    status: partial ? 'partial' : 'complete',
    created: input.created ?? new Date().toISOString(),
    task: {
      name: task.name,
      source: task.source,
      frames: task.data.frames.length,
      labelled: task.data.labels?.some((l) => l !== null) ?? false,
      framesPerEvaluation: task.framesPerEvaluation ?? null,
      knobSpace: task.knobSpace,
      fixed: { ...task.segmenter.fixed },
      reward: { source: task.reward.source, total: rewardConfig.total ?? null, terms: rewardConfig.terms.map((t) => t.name) },
    },
    agents: [...input.agents],
    seeds: [...input.seeds],
    budget: input.budget,
    default: defaultResult
      ? { total: defaultResult.total, terms: finiteTerms(defaultResult.terms), knobs: pickTuned(defaultExtra.knobs, tuned), labelScores: defaultExtra.labelScores ?? null }
      : null,
    best: overallBest,
    thresholds,
    perAgent,
    tests,
    runs,
    sizes: null,
    wallSeconds: input.wallSeconds ?? null,
  };
}

/** The per-agent CSV (one row per agent; empty cells where a value is missing). */
export function compareCsv(summary: CompareSummary): string {
  const header = [
    'agent', 'runs', 'finished',
    'best_mean', 'best_std', 'best_median', 'best_min', 'best_max',
    'reached_90', 'evaluations_to_90_mean', 'seconds_to_90_mean',
    'reached_95', 'evaluations_to_95_mean', 'seconds_to_95_mean',
    'evaluations_mean', 'seconds_mean',
    'msa_mean', 'msa_std', 'f1_mean', 'f1_std',
    'best_seed', 'best_knobs',
  ];
  const cell = (v: unknown): string => {
    if (v === null || v === undefined) return '';
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const rows = summary.perAgent.map((a) =>
    [
      a.agent, a.runs, a.finished,
      a.best.mean, a.best.std, a.best.median, a.best.min, a.best.max,
      a.reach['90%'].reached, a.reach['90%'].evaluations.mean, a.reach['90%'].seconds.mean,
      a.reach['95%'].reached, a.reach['95%'].evaluations.mean, a.reach['95%'].seconds.mean,
      a.evaluations.mean, a.seconds.mean,
      a.labelScores?.msa.mean, a.labelScores?.msa.std, a.labelScores?.f1.mean, a.labelScores?.f1.std,
      a.bestRun?.seed, a.bestRun ? JSON.stringify(a.bestRun.knobs) : null,
    ]
      .map(cell)
      .join(','),
  );
  return `${header.join(',')}\n${rows.join('\n')}\n`;
}
