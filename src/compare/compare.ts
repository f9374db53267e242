import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseAgentConfig, parseAgentOptions } from '../../agents/registry.js';
import { loadSamSegmenter } from '../segmenters/load-segmenter.js';
import type { Segmenter } from '../segmenters/types.js';
import type { EvaluationEvent } from '../train/runner.js';
import type { ResolvedTask } from '../train/task.js';
import { STUDY_FILE, train } from '../train/train.js';
import { SamstarError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { loadCompareRuns, PLAN_FILE, PLAN_FORMAT, readPlan, runFolder, type ComparePlan } from './load.js';
import { buildCompareSummary, compareCsv, type CompareSummary } from './summary.js';

/**
 * `samstar compare` as a library call: every agent × seed on the same frames,
 * all runs sharing one segmenter (its stage caches are keyed by frame content,
 * so each frame is encoded — and, for filter-stage knobs, decoded — once for
 * the whole comparison). Each run is an ordinary training run folder
 * `DIR/runs/AGENT-seedS/` (study.sqlite, best-knobs.json, summary.json), so
 * `samstar studies DIR`, `samstar report DIR/runs/…` and resume work on it.
 * Runs go seed by seed (all agents on seed 1, then seed 2, …), so warm caches
 * and machine load favour no agent.
 *
 * At the end (or after an abort) DIR/summary.json, DIR/summary.csv and
 * DIR/report.html are written from what is stored; an interrupted comparison
 * is marked "partial" and can be continued with `resume`.
 */
export interface CompareOptions {
  /** The base task: its agent, seed and budget are replaced per run. */
  readonly task: ResolvedTask;
  readonly agents: readonly string[];
  /** How many seeds (task.seed, task.seed + 1, …), or the seeds themselves. */
  readonly seeds: number | readonly number[];
  /** Evaluations per run (default: the task's budget). */
  readonly budget?: number;
  readonly out: string;
  /** Continue the comparison stored in `out` (runs replay their stored evaluations). */
  readonly resume?: boolean;
  readonly signal?: AbortSignal;
  /** A loaded segmenter to share (not disposed here); default: load the task's. */
  readonly segmenter?: Segmenter;
  readonly workers?: number;
  /** Write report.html (default true). */
  readonly report?: boolean;
  readonly overlayFrames?: number;
  readonly histogramFrames?: number;
  /** The command line, shown in the report. */
  readonly command?: string;
  readonly log?: (line: string) => void;
  readonly onPlan?: (plan: { readonly runs: readonly { agent: string; seed: number }[]; readonly budget: number }) => void;
  readonly onRunStart?: (run: { agent: string; seed: number; index: number; total: number; resumed: boolean }) => void;
  readonly onEvaluation?: (event: EvaluationEvent & { readonly agent: string; readonly seed: number }) => void;
  readonly onRunEnd?: (run: { agent: string; seed: number; status: string; evaluations: number; error?: string }) => void;
}

export interface CompareResult {
  readonly summary: CompareSummary;
  readonly partial: boolean;
  readonly paths: { readonly summary: string; readonly csv: string; readonly plan: string; readonly report?: string };
}

export const COMPARE_SUMMARY_FILE = 'summary.json';
export const COMPARE_CSV_FILE = 'summary.csv';

export async function runCompare(options: CompareOptions): Promise<CompareResult> {
  const started = performance.now();
  const log = options.log ?? (() => undefined);
  const out = resolve(options.out);
  const base = options.task;
  const budget = options.budget ?? base.budget;
  if (!Number.isInteger(budget) || budget < 1) throw new SamstarError('ARGUMENT_INVALID', `budget must be a whole number ≥ 1 (got ${budget})`);
  if (options.agents.length === 0) throw new SamstarError('ARGUMENT_INVALID', 'name at least one agent to compare', { hint: 'e.g. --agents cmaes,bo,grid,random' });
  const agents = options.agents.map((a) => parseAgentConfig(a, '--agents').name as string);
  if (new Set(agents).size !== agents.length) throw new SamstarError('ARGUMENT_INVALID', `--agents lists an agent twice (${agents.join(', ')})`);
  const seeds = typeof options.seeds === 'number' ? seedList(base.seed, options.seeds) : [...options.seeds];
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0) || new Set(seeds).size !== seeds.length) {
    throw new SamstarError('ARGUMENT_INVALID', `seeds must be distinct whole numbers ≥ 0 (got ${seeds.join(', ') || 'none'})`);
  }
  // The task's agent options belong to its agent; the others run with their defaults.
  const optionsOf = (agent: string): Record<string, unknown> => (agent === base.agent.name ? parseAgentOptions(agent, base.agent.options, 'agent') : {});
  for (const agent of agents) optionsOf(agent);

  const planPath = join(out, PLAN_FILE);
  let plan: ComparePlan;
  if (existsSync(planPath)) {
    if (!options.resume) {
      throw new SamstarError('ARGUMENT_INVALID', `${out} already holds a comparison (${PLAN_FILE})`, { hint: 'continue it with --resume, or choose another --out folder' });
    }
    plan = await readPlan(out);
    if (plan.agents.join(',') !== agents.join(',') || plan.seeds.join(',') !== seeds.join(',')) {
      throw new SamstarError('CONFIG_INVALID', `--resume: ${out} compares ${plan.agents.join(', ')} over seeds ${plan.seeds.join(', ')}, not ${agents.join(', ')} over ${seeds.join(', ')}`, {
        hint: 'resume with the same --agents and --seeds (only --budget may change)',
      });
    }
    plan = { ...plan, budget };
  } else {
    if (options.resume) throw new SamstarError('IO_ERROR', `nothing to resume: ${planPath} does not exist`, { hint: 'run without --resume to start a comparison' });
    plan = { format: PLAN_FORMAT, created: new Date().toISOString(), agents, seeds, budget, task: base };
  }
  await mkdir(out, { recursive: true });
  await writeFileAtomic(planPath, `${JSON.stringify(plan, null, 2)}\n`);

  const order = seeds.flatMap((seed) => agents.map((agent) => ({ agent, seed })));
  options.onPlan?.({ runs: order, budget });
  const errors = new Map<string, string>();
  const segmenter = options.segmenter ?? (await loadSamSegmenter({ encoder: base.segmenter.encoder, decoder: base.segmenter.decoder, intraOpThreads: base.segmenter.threads ?? 1 }));
  const ownsSegmenter = options.segmenter === undefined;
  try {
    for (let index = 0; index < order.length; index++) {
      if (options.signal?.aborted) break;
      const { agent, seed } = order[index];
      const folder = join(out, runFolder(agent, seed));
      const resumed = existsSync(join(folder, STUDY_FILE));
      options.onRunStart?.({ agent, seed, index, total: order.length, resumed });
      const task: ResolvedTask = { ...base, name: `${base.name}-${agent}-seed${seed}`, agent: { name: agent, options: optionsOf(agent) }, seed, budget };
      try {
        const result = await train(task, {
          out: folder,
          resume: resumed,
          segmenter,
          signal: options.signal,
          workers: options.workers,
          onEvaluation: (event) => options.onEvaluation?.({ ...event, agent, seed }),
        });
        options.onRunEnd?.({ agent, seed, status: result.run.status, evaluations: result.summary.evaluations });
      } catch (error) {
        const message = error instanceof SamstarError ? error.describe() : error instanceof Error ? error.message : String(error);
        errors.set(`${agent}:${seed}`, message);
        log(`${agent} seed ${seed}: failed: ${message.split('\n')[0]}`);
        options.onRunEnd?.({ agent, seed, status: 'failed', evaluations: 0, error: message });
        if (error instanceof SamstarError && error.code === 'CONFIG_INVALID' && resumed) throw error; // a resume that does not match: stop
      }
    }

    const interrupted = options.signal?.aborted === true;
    const runs = (await loadCompareRuns(out, plan)).map((r) => {
      const error = errors.get(`${r.agent}:${r.seed}`);
      return error ? { ...r, error } : r;
    });
    let summary = buildCompareSummary({ kind: 'compare', task: base, agents, seeds, budget, runs, interrupted, wallSeconds: (performance.now() - started) / 1000 });

    let reportPath: string | undefined;
    if (options.report ?? true) {
      const { buildReport } = await import('../report/report.js');
      const built = await buildReport({
        out,
        summary,
        task: base,
        segmenter,
        skipPictures: interrupted ? 'the comparison was interrupted: size histograms and overlays were skipped (`samstar report DIR` draws them from the stored runs)' : undefined,
        overlayFrames: options.overlayFrames,
        histogramFrames: options.histogramFrames,
        command: options.command,
        summaryFile: COMPARE_SUMMARY_FILE,
        log,
      });
      summary = built.summary;
      reportPath = built.html;
    } else {
      await writeFileAtomic(join(out, COMPARE_SUMMARY_FILE), `${JSON.stringify(summary, null, 2)}\n`);
    }
    await writeFileAtomic(join(out, COMPARE_CSV_FILE), compareCsv(summary));
    return {
      summary,
      partial: summary.status === 'partial',
      paths: { summary: join(out, COMPARE_SUMMARY_FILE), csv: join(out, COMPARE_CSV_FILE), plan: planPath, ...(reportPath ? { report: reportPath } : {}) },
    };
  } finally {
    if (ownsSegmenter) await segmenter.dispose();
  }
}

export function seedList(first: number, count: number): number[] {
  if (!Number.isInteger(count) || count < 1) throw new SamstarError('ARGUMENT_INVALID', `--seeds must be a whole number ≥ 1 (got ${count})`);
  return Array.from({ length: count }, (_, i) => first + i);
}
