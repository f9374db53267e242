import { isPolicyAgentName } from '../config/task.js';
import type { ImageScores } from '../measure/evaluate.js';
import type { KnobSpec, KnobValue, KnobValues } from '../segmenters/knobs.js';
import { effectiveStatus, type EvaluationRecord, type StudyInfo } from '../store/index.js';
import type { PolicyTrainSummary } from '../train/policy-train.js';
import type { TrainSummary } from '../train/summary.js';
import type { ResolvedTask } from '../train/task.js';
import { holm, mannWhitneyU, spread, type Spread } from './stats.js';

/**
 * What `DIR/summary.json` of `samstar compare` holds (and `report.json` of
 * `samstar report STUDY`, with one agent and one seed): everything the report
 * shows as a number. Built only from what is stored (the studies, and each
 * run's summary.json for label scores and a policy's final figures), so it can
 * be rebuilt from disk at any time — after an interruption too.
 *
 * Black-box agents (cmaes, bo, grid, random) and policy agents (ppo,
 * reinforce) are compared on the same footing (`measures` puts this into
 * words in summary.json):
 *
 * - Cost. One *evaluation* is the comparison's unit: S frames segmented and
 *   scored, S = the task's framesPerEvaluation or else all F frames, i.e.
 *   exactly one black-box evaluation. A policy run scores one frame per visit
 *   and, after training, its deterministic policy on all F frames; runCompare
 *   gives it budget × S − F visits, so that it too spends budget × S frames.
 *   A policy run's `evaluations` and `budget` are in these units (its own
 *   counts are `visits` and `visitBudget`); `frameEvaluations` counts frames.
 * - Final figure (`final`; `best`, `perAgent.*.best`, the thresholds and the
 *   Mann–Whitney tests use it): the mean reward over all F frames of what the
 *   run delivers — a black-box run's best knobs (its best evaluation when
 *   evaluations cover every frame; else those knobs re-scored on every frame,
 *   from the run's summary.json), a policy run's deterministic policy with its
 *   own knobs per frame (summary.json `policy.total`). A policy run's best
 *   single visit is one frame's reward and is never compared.
 * - Convergence (`curve`, and the evaluations to 90 %/95 %), in evaluations.
 *   Black-box: the best evaluation so far. Policy: the best mean reward over a
 *   complete pass over the frames so far (a pass visits every frame once, in a
 *   shuffled order, with sampled actions, so it averages the same F frames a
 *   black-box evaluation does — what the exploring policy earned, not a setting
 *   one could deploy), and as the last point, after its last F frames, the
 *   deterministic policy on every frame. Seconds to 90 %/95 % sum the stored
 *   evaluation times (learning and the final policy evaluation are not timed).
 * - mSA/F1: of a black-box run's best knobs, of a policy's per-frame choices.
 */
export const COMPARE_FORMAT = 'samstar-compare';
export const COMPARE_VERSION = 2;

/** Fractions of the best reward found by any agent whose reaching is timed. */
export const REACH_FRACTIONS = [0.9, 0.95] as const;
export type ReachKey = '90%' | '95%';
export const REACH_KEYS: readonly ReachKey[] = ['90%', '95%'];

export type RunStatus = 'finished' | 'interrupted' | 'failed' | 'running' | 'created' | 'not started';

/** A black-box agent tunes one knob setting; a policy agent (ppo, reinforce) a per-frame policy. */
export type AgentKind = 'black-box' | 'policy';

export function agentKind(agent: string): AgentKind {
  // A comparison of several segmenters names its columns "SEGMENTER+AGENT" (arms.ts).
  return isPolicyAgentName(agent.slice(agent.lastIndexOf('+') + 1)) ? 'policy' : 'black-box';
}

export interface RunReach {
  /** Evaluations of S frames until the curve first reached the threshold (a black-box run: its 1-based evaluation count). */
  readonly evaluations: number;
  /** Frames segmented and scored until then. */
  readonly frameEvaluations: number;
  /** Summed evaluation wall time until then, seconds. */
  readonly seconds: number;
}

/** What a run's `best.total` is. Only the first three are a run's final figure (compared across agents). */
export type BestSource = 'best evaluation' | 'best knobs on all frames' | 'deterministic policy on all frames' | 'best evaluation on a frame subset';

export interface RunSummary {
  readonly agent: string;
  readonly kind: AgentKind;
  readonly seed: number;
  /** The run folder, relative to the compare folder ("runs/cmaes-seed1"), or the study file for a single study. */
  readonly folder: string;
  readonly status: RunStatus;
  readonly message: string | null;
  /** Evaluations stored in the run's study; a policy run: its cost in evaluations of S frames (frameEvaluations / S). */
  readonly evaluations: number;
  /** The study's budget; a policy run: in evaluations of S frames ((visitBudget + F) / S). */
  readonly budget: number;
  /** A policy run: its visits (one frame each, the evaluations in its study) and their budget; null for a black-box run. */
  readonly visits: number | null;
  readonly visitBudget: number | null;
  /** Frames segmented and scored by the run (a finished policy run: its visits + F for the final policy evaluation). */
  readonly frameEvaluations: number;
  /** Evaluations with a NaN reward. */
  readonly failed: number;
  /**
   * The run's final figure: the mean reward over all F frames of what it delivers (null when not known: an
   * unfinished policy run, or an unfinished black-box run whose evaluations used frame subsets). Compared across agents.
   */
  readonly final: number | null;
  /**
   * What the run delivers. A black-box run: its best evaluation (index, tuned knobs), `total` its final figure
   * (or, with `source` 'best evaluation on a frame subset', the subset mean when no final figure is stored yet).
   * A policy run: its deterministic policy (index null; knobs {} — they differ per frame, see `policy`); null until it finished.
   */
  readonly best: { readonly total: number; readonly index: number | null; readonly knobs: Record<string, KnobValue>; readonly terms: Record<string, number>; readonly source: BestSource } | null;
  /** A finished policy run: the knobs its deterministic policy chose per frame, and its learning. */
  readonly policy: { readonly updates: number; readonly rolloutSize: number; readonly perFrame: { frame: string; total: number; knobs: KnobValues }[] } | null;
  readonly reach: Record<ReachKey, RunReach | null>;
  /** Summed evaluation wall time, seconds. */
  readonly seconds: number;
  /** Label scores of what the run delivers (best knobs, or the policy's per-frame knobs) on every labelled frame (null without labels or when the run did not finish). */
  readonly labelScores: ImageScores | null;
  /** Best all-frames reward so far after each evaluation of S frames (null until the first one; see the top of this file for policy runs). */
  readonly curve: (number | null)[];
}

export interface AgentSummary {
  readonly agent: string;
  readonly kind: AgentKind;
  /** Planned runs (seeds). */
  readonly runs: number;
  /** Runs that ended by their budget or the agent's own stop. */
  readonly finished: number;
  /** Final figure of each run that has one, in seed order. */
  readonly bestValues: number[];
  readonly best: Spread;
  /** Cost per run in evaluations of S frames. */
  readonly evaluations: Spread;
  /** Frames segmented and scored per run. */
  readonly frameEvaluations: Spread;
  readonly seconds: Spread;
  readonly reach: Record<ReachKey, { readonly reached: number; readonly evaluations: Spread; readonly frameEvaluations: Spread; readonly seconds: Spread }>;
  /** Mean ± std over the runs with label scores. */
  readonly labelScores: { readonly msa: Spread; readonly f1: Spread } | null;
  /**
   * A black-box agent's best run: its seed, final reward (and terms), tuned knobs and label scores (the report
   * segments frames with these knobs). Null for a policy agent: no one knob setting describes a policy (see bestPolicy).
   */
  readonly bestRun: {
    readonly seed: number;
    readonly total: number;
    readonly terms: Record<string, number>;
    readonly knobs: Record<string, KnobValue>;
    readonly labelScores: ImageScores | null;
  } | null;
  /** A policy agent's best run: its seed, final reward (the deterministic policy on all frames), terms and label scores. */
  readonly bestPolicy: {
    readonly seed: number;
    readonly folder: string;
    readonly total: number;
    readonly terms: Record<string, number>;
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
  /** Evaluations of S frames per run (a policy run: budget × S visits). */
  readonly budget: number;
  /** What the figures mean when black-box and policy agents are compared (words for readers of summary.json). */
  readonly measures: {
    /** S: frames per evaluation, the unit of cost (the task's framesPerEvaluation, else all its frames). */
    readonly framesPerEvaluation: number;
    readonly final: string;
    readonly cost: string;
    readonly convergence: string;
  };
  /**
   * The static policy that the policy runs (ppo, reinforce) were warm-started at (`--init-policy`): the
   * comparison's, or a single policy study's own; null when they started from scratch. Absent for a
   * black-box study and in summaries written before the field.
   */
  readonly policyInit?: PolicyInit | null;
  readonly default: { readonly total: number; readonly terms: Record<string, number>; readonly knobs: Record<string, KnobValue>; readonly labelScores: ImageScores | null } | null;
  /**
   * A comparison of several segmenters (columns "SEGMENTER+AGENT"): per segmenter, its columns, the knobs its
   * runs tuned and held, and its default knobs' figures (`default` above is the first column's). Absent otherwise.
   */
  readonly segmenters?: readonly SegmenterColumns[];
  /** The best final figure of any run (see RunSummary.final). */
  readonly best: { readonly total: number; readonly agent: string; readonly seed: number } | null;
  /** Reward thresholds for `reach`: best − (1 − f)·|best| (f·best for a positive best). */
  readonly thresholds: Record<ReachKey, number | null>;
  readonly perAgent: AgentSummary[];
  /** Mann–Whitney U between every pair of agents on their runs' final figures (RunSummary.final). */
  readonly tests: PairTest[];
  readonly runs: RunSummary[];
  /** Size distributions of the default and tuned segmentations (filled in with the report's images). */
  readonly sizes: { readonly property: string; readonly unit: string; readonly frames: number; readonly panels: SizeStats[] } | null;
  /** Wall time of the whole comparison, seconds (null when rebuilt from disk). */
  readonly wallSeconds: number | null;
}

export interface SegmenterColumns {
  readonly segmenter: string;
  readonly columns: string[];
  readonly knobSpace: readonly KnobSpec[];
  readonly fixed: Record<string, KnobValue>;
  readonly default: { readonly total: number; readonly labelScores: ImageScores | null } | null;
}

/**
 * The warm start of policy runs (`--init-policy DIR`): where it came from and where the policy's mean
 * starts. A comparison stores it in its plan (compare.json); a single study in its default record.
 */
export interface PolicyInit {
  /** The static policy folder, resolved to an absolute path ('' for studies from before it was stored). */
  readonly path: string;
  /** Which policy: its id and folder (initFromPolicy's `source`). */
  readonly source: string;
  /** The normalised tuned knobs the policy's mean starts at (what trainPolicy gets as `init.x`). */
  readonly x: number[];
  /** The same knobs in the task's units, for readers. */
  readonly knobs: Record<string, KnobValue>;
}

/** One planned run and what is stored of it. */
export interface RunInput {
  readonly agent: string;
  readonly seed: number;
  readonly folder: string;
  /** Null when the run never started. */
  readonly study: StudyInfo | null;
  readonly evaluations: readonly EvaluationRecord[];
  /** The run's summary.json (label scores of its best knobs; a policy run's final figures), when it matches the study. */
  readonly trainSummary?: TrainSummary | PolicyTrainSummary | null;
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
  /** The plan's warm start of the policy runs (null or absent: none). */
  readonly policyInit?: PolicyInit | null;
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

/**
 * One measurement of an all-frames mean reward on a run's way: after `cost`
 * frame-evaluations and `ms` of summed evaluation time, `value` (null: none
 * at this point, e.g. a failed evaluation).
 */
export interface CurvePoint {
  readonly cost: number;
  readonly ms: number;
  readonly value: number | null;
}

/** A black-box run's points: one per evaluation (S frames each, or the frames it stored). */
function blackBoxPoints(sorted: readonly EvaluationRecord[], framesPerEvaluation: number): CurvePoint[] {
  let cost = 0;
  let ms = 0;
  return sorted.map((e) => {
    cost += e.frames.length || framesPerEvaluation;
    ms += e.ms;
    return { cost, ms, value: Number.isFinite(e.total) ? e.total : null };
  });
}

/**
 * A policy run's points: the mean reward of each complete pass over the F
 * frames (visits p·F … (p+1)·F − 1; a pass with a failed visit has none), and,
 * once the run finished, its deterministic policy on every frame, F frames
 * later (that evaluation's time is not stored: it adds no seconds). A trailing
 * incomplete pass costs its visits but gives no point.
 */
export function policyPoints(sorted: readonly EvaluationRecord[], frames: number, final: number | null): CurvePoint[] {
  const points: CurvePoint[] = [];
  let ms = 0;
  let sum = 0;
  let failed = false;
  sorted.forEach((e, i) => {
    ms += e.ms;
    if (Number.isFinite(e.total)) sum += e.total;
    else failed = true;
    if ((i + 1) % frames === 0) {
      points.push({ cost: i + 1, ms, value: failed ? null : sum / frames });
      sum = 0;
      failed = false;
    }
  });
  if (final !== null) points.push({ cost: sorted.length + frames, ms, value: final });
  return points;
}

/** Best so far after each evaluation of S frames: entry k − 1 holds the best value of the points that cost ≤ k·S frames. */
export function curveOf(points: readonly CurvePoint[], framesPerEvaluation: number): (number | null)[] {
  if (points.length === 0) return [];
  const length = Math.ceil(points[points.length - 1].cost / framesPerEvaluation - 1e-9);
  const curve: (number | null)[] = [];
  let best = -Infinity;
  let p = 0;
  for (let k = 1; k <= length; k++) {
    while (p < points.length && points[p].cost <= k * framesPerEvaluation + 1e-9) {
      const v = points[p].value;
      if (v !== null && v > best) best = v;
      p++;
    }
    curve.push(Number.isFinite(best) ? best : null);
  }
  return curve;
}

function reachOf(points: readonly CurvePoint[], threshold: number | null, framesPerEvaluation: number, blackBox: boolean): RunReach | null {
  if (threshold === null) return null;
  for (let i = 0; i < points.length; i++) {
    const v = points[i].value;
    if (v !== null && v >= threshold) {
      return { evaluations: blackBox ? i + 1 : points[i].cost / framesPerEvaluation, frameEvaluations: points[i].cost, seconds: points[i].ms / 1000 };
    }
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

function isPolicySummary(summary: TrainSummary | PolicyTrainSummary | null | undefined): summary is PolicyTrainSummary {
  return (summary as { kind?: unknown } | null | undefined)?.kind === 'policy';
}

/**
 * A policy run's visits in a comparison with `budget` evaluations of S frames: budget × S frames in all, F of
 * them for scoring the final policy on every frame (so fewer than 1 when budget × S ≤ F: too small a budget).
 */
export function policyVisitBudget(budget: number, framesPerEvaluation: number, frames: number): number {
  return budget * framesPerEvaluation - frames;
}

/** The frames one evaluation stands for in a comparison of this task (S). */
export function framesPerEvaluationOf(task: ResolvedTask): number {
  const frames = Math.max(1, task.data.frames.length);
  return Math.min(frames, task.framesPerEvaluation ?? frames);
}

/** The words `measures` holds: what the figures of a summary mean. */
export function describeMeasures(frames: number, framesPerEvaluation: number): CompareSummary['measures'] {
  const S = framesPerEvaluation;
  const unit = S === frames ? `all ${frames} frame(s)` : `${S} of the ${frames} frames`;
  return {
    framesPerEvaluation: S,
    final:
      `best (and the thresholds, the Mann–Whitney tests, perAgent best): each run's final figure, the mean reward over all ${frames} frame(s) of what it delivers — ` +
      `a black-box run's best knobs${S === frames ? ' (its best evaluation)' : ' (re-scored on every frame)'}, a policy run's deterministic policy with its own knobs per frame; ` +
      'a policy run\'s single visits (one frame each) are never compared with black-box evaluations',
    cost:
      `evaluations (budget, evaluations, to 90 %/95 %) count units of ${unit} segmented and scored: one black-box evaluation, or ${S} policy visit(s) of one frame each; ` +
      `every run spends budget × ${S} frames — a policy run budget × ${S} − ${frames} visits and ${frames} for scoring its final policy on every frame ` +
      '(its own counts are visits and visitBudget); frameEvaluations counts frames',
    convergence:
      'best all-frames mean reward so far, after each evaluation: black-box, the best evaluation so far; policy, the best mean reward over a complete pass over the frames ' +
      '(every frame once, sampled actions: what the exploring policy earned, not a deployable setting), and last the deterministic policy on every frame; ' +
      'seconds sum stored evaluation times (not learning, not the final policy evaluation)',
  };
}

/**
 * The comparison's summary from its stored runs, in named steps: each run's
 * final figure and convergence points (prepareRun), the overall best and the
 * reach thresholds it sets, each run's record (runSummary), each agent's
 * spread over seeds (agentSummary), the pairwise Mann–Whitney tests with Holm's
 * correction (pairTests), and the task and default knobs around them.
 */
export function buildCompareSummary(input: BuildCompareInput): CompareSummary {
  const { task } = input;
  const tuned = task.knobSpace.map((s) => s.name);
  const frames = Math.max(1, task.data.frames.length);
  const S = framesPerEvaluationOf(task);

  // Each run's tuned knobs are its own study's (a comparison of several segmenters tunes other knobs per segmenter).
  const prepared = input.runs.map((run) => prepareRun(run, tunedOfRun(run) ?? tuned, frames, S));
  const overallBest = bestFinal(input.runs, prepared);
  const thresholds = {} as Record<ReachKey, number | null>;
  REACH_KEYS.forEach((key, i) => (thresholds[key] = overallBest ? reachThreshold(overallBest.total, REACH_FRACTIONS[i]) : null));
  const runs = input.runs.map((run, i) => runSummary(run, prepared[i], thresholds, { budget: input.budget, frames, S }));
  const perAgent = input.agents.map((agent) => agentSummary(agent, runs, input.seeds.length));
  const tests = pairTests(perAgent);

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
    measures: describeMeasures(frames, S),
    // A comparison's plan says how all its policy runs started (null: from scratch); a single policy study
    // says so from its own record (report.ts); a black-box study has no policy start and leaves it out.
    ...(input.kind === 'compare' ? { policyInit: input.policyInit ?? null } : input.policyInit !== undefined ? { policyInit: input.policyInit } : {}),
    ...segmenterColumns(input),
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

/** One run made ready for the summary: what it delivers (its final figure) and the points of its convergence curve. */
interface PreparedRun {
  readonly kind: AgentKind;
  readonly sorted: EvaluationRecord[];
  readonly final: number | null;
  readonly best: RunSummary['best'];
  readonly points: CurvePoint[];
  readonly labelScores: ImageScores | null;
  readonly policy: RunSummary['policy'];
}

type CompareRun = BuildCompareInput['runs'][number];

/** Per segmenter of a comparison of several (columns "SEGMENTER+AGENT"), from its runs' stored tasks and default records. */
function segmenterColumns(input: BuildCompareInput): { segmenters?: SegmenterColumns[] } {
  const byName = new Map<string, string[]>();
  for (const label of input.agents) {
    const at = label.lastIndexOf('+');
    if (at < 0) return {};
    const name = label.slice(0, at);
    byName.set(name, [...(byName.get(name) ?? []), label]);
  }
  if (byName.size === 0) return {};
  const segmenters = [...byName].map(([segmenter, columns]): SegmenterColumns => {
    const runs = input.runs.filter((r) => columns.includes(r.agent));
    const config = runs.find((r) => r.study?.config)?.study?.config as { knobSpace?: KnobSpec[]; segmenter?: { fixed?: Record<string, KnobValue> } } | undefined;
    const stored = runs.find((r) => r.study?.default)?.study?.default ?? null;
    const scores = ((stored?.extra ?? {}) as { labelScores?: ImageScores }).labelScores ?? null;
    return { segmenter, columns, knobSpace: config?.knobSpace ?? [], fixed: { ...(config?.segmenter?.fixed ?? {}) }, default: stored ? { total: stored.total, labelScores: scores } : null };
  });
  return { segmenters };
}

function tunedOfRun(run: CompareRun): string[] | undefined {
  const space = (run.study?.config as { knobSpace?: unknown } | undefined)?.knobSpace;
  return Array.isArray(space) ? space.map((s: { name: string }) => s.name) : undefined;
}

function prepareRun(run: CompareRun, tuned: string[], frames: number, S: number): PreparedRun {
  const kind = agentKind(run.agent);
  const sorted = [...run.evaluations].sort((a, b) => a.index - b.index);
  const trainSummary = run.trainSummary ?? null;
  if (kind === 'policy') {
    const policy = isPolicySummary(trainSummary) ? trainSummary.policy : null;
    const final = policy && Number.isFinite(policy.total) ? policy.total : null;
    const best: RunSummary['best'] = final !== null ? { total: final, index: null, knobs: {}, terms: finiteTerms(policy!.terms), source: 'deterministic policy on all frames' } : null;
    return {
      kind,
      sorted,
      final,
      best,
      points: policyPoints(sorted, frames, final),
      labelScores: final !== null ? (policy!.labelScores ?? null) : null,
      policy: final !== null && isPolicySummary(trainSummary) ? { updates: trainSummary.updates, rolloutSize: trainSummary.rolloutSize, perFrame: policy!.perFrame } : null,
    };
  }
  let top: EvaluationRecord | undefined;
  for (const e of sorted) if (Number.isFinite(e.total) && (!top || e.total > top.total)) top = e;
  const stored = trainSummary && !isPolicySummary(trainSummary) && top && trainSummary.best?.index === top.index ? trainSummary.best : null;
  let best: RunSummary['best'] = null;
  if (top) {
    const knobs = pickTuned(top.knobs, tuned);
    if (S >= frames) best = { total: top.total, index: top.index, knobs, terms: finiteTerms(top.terms), source: 'best evaluation' };
    else if (stored?.allFrames && Number.isFinite(stored.allFrames.total)) best = { total: stored.allFrames.total, index: top.index, knobs, terms: finiteTerms(stored.allFrames.terms), source: 'best knobs on all frames' };
    else best = { total: top.total, index: top.index, knobs, terms: finiteTerms(top.terms), source: 'best evaluation on a frame subset' };
  }
  return {
    kind,
    sorted,
    final: best && best.source !== 'best evaluation on a frame subset' ? best.total : null,
    best,
    points: blackBoxPoints(sorted, S),
    labelScores: stored?.labelScores ?? null,
    policy: null,
  };
}

/** The best final figure of all runs (the first run wins a tie), which sets the reach thresholds. */
function bestFinal(runs: readonly CompareRun[], prepared: readonly PreparedRun[]): { total: number; agent: string; seed: number } | null {
  let overall: { total: number; agent: string; seed: number } | null = null;
  runs.forEach((run, i) => {
    const final = prepared[i].final;
    if (final !== null && (!overall || final > overall.total)) overall = { total: final, agent: run.agent, seed: run.seed };
  });
  return overall;
}

function runSummary(run: CompareRun, p: PreparedRun, thresholds: Record<ReachKey, number | null>, at: { budget: number; frames: number; S: number }): RunSummary {
  const { frames, S } = at;
  const status = runStatus(run);
  const reach = {} as Record<ReachKey, RunReach | null>;
  for (const key of REACH_KEYS) reach[key] = reachOf(p.points, thresholds[key], S, p.kind === 'black-box');
  const frameEvaluations = p.points.length ? Math.max(p.points[p.points.length - 1].cost, p.kind === 'policy' ? p.sorted.length : 0) : p.sorted.length;
  const policy = p.kind === 'policy';
  const visitBudget = policy ? (run.study?.budget ?? policyVisitBudget(at.budget, S, frames)) : null;
  return {
    agent: run.agent,
    kind: p.kind,
    seed: run.seed,
    folder: run.folder,
    status,
    message: run.error ?? run.study?.message ?? null,
    evaluations: policy ? frameEvaluations / S : p.sorted.length,
    budget: policy ? (visitBudget! + frames) / S : (run.study?.budget ?? at.budget),
    visits: policy ? p.sorted.length : null,
    visitBudget,
    frameEvaluations,
    failed: p.sorted.filter((e) => Number.isNaN(e.total)).length,
    final: p.final,
    best: p.best,
    policy: p.policy,
    reach,
    seconds: p.sorted.reduce((s, e) => s + e.ms, 0) / 1000,
    labelScores: p.labelScores,
    curve: p.kind === 'black-box' ? bestCurve(p.sorted) : curveOf(p.points, S),
  };
}

/** One agent over its seeds: spreads of the final figures, costs and reach, and its best run. */
function agentSummary(agent: string, runs: readonly RunSummary[], seeds: number): AgentSummary {
  const kind = agentKind(agent);
  const mine = runs.filter((r) => r.agent === agent);
  const started = mine.filter((r) => r.status !== 'not started');
  const withFinal = mine.filter((r) => r.final !== null);
  const bestValues = withFinal.map((r) => r.final!);
  const reach = {} as AgentSummary['reach'];
  for (const key of REACH_KEYS) {
    const reached = mine.filter((r) => r.reach[key] !== null);
    reach[key] = {
      reached: reached.length,
      evaluations: spread(reached.map((r) => r.reach[key]!.evaluations)),
      frameEvaluations: spread(reached.map((r) => r.reach[key]!.frameEvaluations)),
      seconds: spread(reached.map((r) => r.reach[key]!.seconds)),
    };
  }
  const scored = mine.filter((r) => r.labelScores !== null);
  const top = withFinal.reduce<RunSummary | null>((acc, r) => (!acc || r.final! > acc.final! ? r : acc), null);
  return {
    agent,
    kind,
    runs: seeds,
    finished: mine.filter((r) => r.status === 'finished').length,
    bestValues,
    best: spread(bestValues),
    evaluations: spread(started.map((r) => r.evaluations)),
    frameEvaluations: spread(started.map((r) => r.frameEvaluations)),
    seconds: spread(started.map((r) => r.seconds)),
    reach,
    labelScores: scored.length
      ? { msa: spread(scored.map((r) => r.labelScores!.msa ?? Number.NaN)), f1: spread(scored.map((r) => r.labelScores!.f1)) }
      : null,
    bestRun: top && kind === 'black-box' ? { seed: top.seed, total: top.final!, terms: top.best!.terms, knobs: top.best!.knobs, labelScores: top.labelScores } : null,
    bestPolicy: top && kind === 'policy' ? { seed: top.seed, folder: top.folder, total: top.final!, terms: top.best!.terms, labelScores: top.labelScores } : null,
  };
}

/** Mann–Whitney U on the final figures of every pair of agents, p-values adjusted by Holm over all pairs. */
function pairTests(perAgent: readonly AgentSummary[]): PairTest[] {
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
  return pairs.map((p, i) => ({ ...p, pHolm: adjusted[i] }));
}

/**
 * The per-agent CSV (one row per agent; empty cells where a value is missing). best_*: the runs' final
 * figures (mean reward over all frames of the best knobs / the deterministic policy); evaluations_*: in
 * evaluations of frames_per_evaluation frames (a policy agent's visits ÷ that); frame_evaluations_*: frames.
 */
export function compareCsv(summary: CompareSummary): string {
  const header = [
    'agent', 'runs', 'finished',
    'best_mean', 'best_std', 'best_median', 'best_min', 'best_max',
    'reached_90', 'evaluations_to_90_mean', 'seconds_to_90_mean',
    'reached_95', 'evaluations_to_95_mean', 'seconds_to_95_mean',
    'evaluations_mean', 'seconds_mean',
    'msa_mean', 'msa_std', 'f1_mean', 'f1_std',
    'best_seed', 'best_knobs',
    'kind', 'frames_per_evaluation', 'frame_evaluations_to_90_mean', 'frame_evaluations_to_95_mean', 'frame_evaluations_mean',
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
      a.bestRun?.seed ?? a.bestPolicy?.seed, a.bestRun ? JSON.stringify(a.bestRun.knobs) : null,
      a.kind, summary.measures.framesPerEvaluation, a.reach['90%'].frameEvaluations.mean, a.reach['95%'].frameEvaluations.mean, a.frameEvaluations.mean,
    ]
      .map(cell)
      .join(','),
  );
  return `${header.join(',')}\n${rows.join('\n')}\n`;
}
