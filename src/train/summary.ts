import type { ImageScores } from '../measure/evaluate.js';
import type { KnobValue } from '../segmenters/knobs.js';
import { effectiveStatus, type EvaluationRecord, type StudyInfo } from '../store/index.js';
import type { RunStudyResult } from './runner.js';
import type { ResolvedTask } from './task.js';

/** What every training run's OUT/summary.json says about the run itself (black-box or policy). */
export interface RunSummaryBase {
  readonly study: string;
  readonly path: string;
  readonly status: string;
  readonly stopReasons: string[];
  readonly agent: { readonly name: string; readonly options: Record<string, unknown> };
  readonly seed: number;
  readonly budget: number;
  readonly evaluations: number;
  /** Evaluations taken from the stored history in this session (resume). */
  readonly replayed: number;
  /** Evaluations with a NaN total. */
  readonly failed: number;
  readonly frames: number;
  readonly tuned: string[];
  /** best (or policy) − default mean total on all frames, null when either is missing. */
  readonly improvement: number | null;
}

/** What OUT/summary.json holds for a black-box run, and what `samstar train` prints. */
export interface TrainSummary extends RunSummaryBase {
  readonly framesPerEvaluation: number | null;
  readonly default: SummaryPoint | null;
  readonly best: (SummaryPoint & { readonly index: number; readonly generation: number; readonly allFrames?: { total: number; terms: Record<string, number> } }) | null;
  readonly history: {
    /** Each evaluation that improved on the best so far. */
    readonly improvements: { readonly index: number; readonly total: number }[];
    /** Best total after 10 %, 25 %, 50 % and 100 % of the evaluations. */
    readonly bestAt: Record<string, number | null>;
  };
  readonly timing: { readonly meanEvaluationMs: number | null; readonly totalEvaluationMs: number };
}

export interface SummaryPoint {
  /** The tuned knobs (best-knobs.json has the full vector). */
  readonly knobs: Record<string, KnobValue>;
  readonly total: number;
  readonly terms: Record<string, number>;
  readonly labelScores?: ImageScores;
}

export function buildSummary(input: {
  study: StudyInfo;
  task: ResolvedTask;
  evaluations: readonly EvaluationRecord[];
  run?: RunStudyResult;
  bestAllFrames?: { total: number; terms: Record<string, number> };
  bestScores?: ImageScores;
  studyPath: string;
  /** The evaluation reported as the best instead of the highest total (a multi-objective run's chosen point). */
  chosen?: EvaluationRecord;
}): TrainSummary {
  const { study, task, evaluations } = input;
  const tuned = task.knobSpace.map((s) => s.name);
  const pick = (knobs: Record<string, KnobValue> | undefined): Record<string, KnobValue> => {
    const out: Record<string, KnobValue> = {};
    for (const name of tuned) if (knobs && knobs[name] !== undefined) out[name] = knobs[name];
    return out;
  };
  const best = input.chosen ?? bestOf(evaluations);
  const extra = (study.default?.extra ?? {}) as { knobs?: Record<string, KnobValue>; labelScores?: ImageScores };
  const defaultPoint: SummaryPoint | null = study.default
    ? { knobs: pick(extra.knobs), total: study.default.total, terms: study.default.terms, ...(extra.labelScores ? { labelScores: extra.labelScores } : {}) }
    : null;
  const bestPoint = best
    ? {
        index: best.index,
        generation: best.generation,
        knobs: pick(best.knobs),
        total: best.total,
        terms: best.terms,
        ...(input.bestAllFrames ? { allFrames: input.bestAllFrames } : {}),
        ...(input.bestScores ? { labelScores: input.bestScores } : {}),
      }
    : null;
  const bestTotal = input.bestAllFrames?.total ?? best?.total;
  const improvements = improvementsOf(evaluations);
  const bestAt: Record<string, number | null> = {};
  for (const fraction of [0.1, 0.25, 0.5, 1]) {
    const n = Math.max(1, Math.ceil(fraction * evaluations.length));
    const upTo = improvements.filter((i) => i.index < n).pop();
    bestAt[`${fraction * 100}%`] = evaluations.length && upTo ? upTo.total : null;
  }
  const totalMs = evaluations.reduce((a, e) => a + e.ms, 0);
  return {
    study: study.name,
    path: input.studyPath,
    status: effectiveStatus(study),
    stopReasons: input.run?.stopReasons ?? study.stopReasons,
    agent: task.agent,
    seed: task.seed,
    budget: study.budget ?? task.budget,
    evaluations: evaluations.length,
    replayed: input.run?.replayed ?? 0,
    failed: evaluations.filter((e) => Number.isNaN(e.total)).length,
    frames: task.data.frames.length,
    framesPerEvaluation: task.framesPerEvaluation ?? null,
    tuned,
    default: defaultPoint,
    best: bestPoint,
    improvement: defaultPoint && bestTotal !== undefined && Number.isFinite(defaultPoint.total) ? bestTotal - defaultPoint.total : null,
    history: { improvements, bestAt },
    timing: { meanEvaluationMs: evaluations.length ? totalMs / evaluations.length : null, totalEvaluationMs: totalMs },
  };
}

/** The best finite evaluation (earliest on ties). */
export function bestOf(evaluations: readonly EvaluationRecord[]): EvaluationRecord | undefined {
  let best: EvaluationRecord | undefined;
  for (const e of evaluations) if (Number.isFinite(e.total) && (!best || e.total > best.total)) best = e;
  return best;
}

const num = (v: number | null | undefined, digits = 4): string => (v === null || v === undefined ? '—' : Number.isNaN(v) ? 'NaN' : v.toFixed(digits));

export function formatKnobs(knobs: Record<string, KnobValue>): string {
  return Object.entries(knobs)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? Number(v.toPrecision(6)) : v}`)
    .join(', ');
}

/** The short summary `samstar train` prints. */
export function formatSummary(summary: TrainSummary): string {
  const lines: string[] = [];
  lines.push(
    `study "${summary.study}" (${summary.agent.name}, seed ${summary.seed}): ${summary.status} after ${summary.evaluations}/${summary.budget} evaluations` +
      (summary.stopReasons.length ? ` (${summary.stopReasons.join(', ')})` : ''),
  );
  if (summary.failed > 0) lines.push(`  ${summary.failed} evaluation(s) gave a NaN reward (stored, told to the agent as the worst)`);
  const d = summary.default;
  const b = summary.best;
  const bestTotal = b?.allFrames?.total ?? b?.total;
  const bestTerms = b?.allFrames?.terms ?? b?.terms ?? {};
  const names = [...new Set([...Object.keys(d?.terms ?? {}), ...Object.keys(bestTerms)])];
  const width = Math.max(12, ...names.map((n) => n.length + 2));
  lines.push(`${'reward'.padEnd(width)}  ${'default'.padStart(9)}  ${'best'.padStart(9)}`);
  lines.push(`${'  total'.padEnd(width)}  ${num(d?.total).padStart(9)}  ${num(bestTotal).padStart(9)}`);
  for (const n of names) lines.push(`${`  ${n}`.padEnd(width)}  ${num(d?.terms[n]).padStart(9)}  ${num(bestTerms[n]).padStart(9)}`);
  if (b?.allFrames) lines.push(`  (best: ${num(b.total)} on its evaluation's frames; ${num(b.allFrames.total)} on all ${summary.frames})`);
  if (d?.labelScores || b?.labelScores) {
    lines.push(`${'label scores'.padEnd(width)}  ${'default'.padStart(9)}  ${'best'.padStart(9)}`);
    for (const key of ['msa', 'f1', 'precision', 'recall', 'mean_iou'] as const) {
      lines.push(`${`  ${key}`.padEnd(width)}  ${num(d?.labelScores?.[key]).padStart(9)}  ${num(b?.labelScores?.[key]).padStart(9)}`);
    }
  }
  if (b) lines.push(`best knobs (evaluation #${b.index}): ${formatKnobs(b.knobs)}`);
  else lines.push('no evaluation gave a finite reward');
  return lines.join('\n');
}

/** Each evaluation that improved on the best finite total so far, in order. */
export function improvementsOf(evaluations: readonly { readonly index: number; readonly total: number }[]): { index: number; total: number }[] {
  const improvements: { index: number; total: number }[] = [];
  let running = -Infinity;
  for (const e of evaluations) {
    if (Number.isFinite(e.total) && e.total > running) {
      running = e.total;
      improvements.push({ index: e.index, total: e.total });
    }
  }
  return improvements;
}

/** A policy run's warm start (`--init-policy`): normalised knobs, which policy, and its folder (absolute). */
export interface WarmStart {
  readonly x: number[];
  readonly source?: string;
  /** Absent in studies written before the folder was stored. */
  readonly path?: string;
}

/** The warm start a policy study stored with its default-knob record (trainPolicy writes it there), if any. */
export function storedWarmStart(study: { readonly default?: { readonly extra?: unknown } | null }): WarmStart | undefined {
  return (study.default?.extra as { init?: WarmStart } | undefined)?.init;
}
