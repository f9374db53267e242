import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseAgentOptions } from '../../agents/registry.js';
import { isPolicyAgentName, parseTaskAgent, TASK_AGENT_NAMES } from '../config/task.js';
import type { RemoteExecution } from '../distributed/evaluator.js';
import { KnobSpace } from '../segmenters/knobs.js';
import type { Segmenter } from '../segmenters/types.js';
import type { EvaluationEvent } from '../train/runner.js';
import type { ResolvedTask } from '../train/task.js';
import { STUDY_FILE, train } from '../train/train.js';
import { SamstarError, suggestName } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { ArmSegmenters, armTask, compareArms } from './arms.js';
import { loadCompareRuns, PLAN_FILE, PLAN_FORMAT, readPlan, runFolder, type ComparePlan } from './load.js';
import { agentKind, buildCompareSummary, compareCsv, framesPerEvaluationOf, policyVisitBudget, type AgentKind, type CompareSummary, type PolicyInit } from './summary.js';

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
 * Policy agents (ppo, reinforce) train a contextual policy with trainPolicy()
 * (one visit = one frame with the action's knobs) in the same kind of run
 * folder (plus DIR/runs/AGENT-seedS/policy/), resumable by replay like the
 * others. So that every run spends the same segmentation work, `budget`
 * counts evaluations of S frames (S = the task's framesPerEvaluation, else all
 * F frames): a black-box run makes `budget` evaluations (budget × S frames), a
 * policy run budget × S − F visits of one frame and then scores its final
 * deterministic policy on all F frames (budget × S frames too). Its figures
 * are made comparable in summary.ts (the final figure is that policy's mean
 * reward over all frames, never a single visit's reward; convergence in
 * evaluations of S frames). With `initPolicy` every policy run is
 * warm-started at one static policy's knobs (as `samstar train --init-policy`);
 * the black-box runs do not use it.
 *
 * At the end (or after an abort) DIR/summary.json and DIR/summary.csv are
 * written from what is stored; an interrupted comparison is marked "partial"
 * and can be continued with `resume`. DIR/report.html is the report layer's
 * job: compareWithReport() (src/report/compare-report.ts) runs this and then
 * builds it, which is what `samstar compare` does.
 */
export interface CompareOptions {
  /** The base task: its agent, seed and budget are replaced per run. */
  readonly task: ResolvedTask;
  readonly agents: readonly string[];
  /** How many seeds (task.seed, task.seed + 1, …), or the seeds themselves. */
  readonly seeds: number | readonly number[];
  /** Evaluations of S frames per run (default: the task's budget); a policy run makes budget × S − F visits of one frame. */
  readonly budget?: number;
  readonly out: string;
  /** Continue the comparison stored in `out` (runs replay their stored evaluations). */
  readonly resume?: boolean;
  /**
   * A static policy folder (e.g. OUT/policy of a cmaes run on this task): every policy run (ppo, reinforce)
   * starts at its knobs. Needs a policy agent in `agents`; a resume must give the same folder and policy.
   */
  readonly initPolicy?: string;
  readonly signal?: AbortSignal;
  /** A loaded segmenter to share (not disposed here); default: load the task's. */
  readonly segmenter?: Segmenter;
  /**
   * Compare these registered segmenters on the task's frames (segmenter × agent × seed; arms.ts): each
   * tunes its own knobs (the task's for the task's segmenter, its default tuned knobs for the others), and
   * the summary's columns are "SEGMENTER+AGENT". Default: the task's segmenter alone (columns: the agents).
   */
  readonly segmenters?: readonly string[];
  /** More loaded segmenters to share (by name; not disposed here). */
  readonly sharedSegmenters?: readonly Segmenter[];
  readonly workers?: number;
  /** Evaluate every run on `samstar worker`s through Redis (--redis URL). */
  readonly remote?: RemoteExecution;
  /** compareWithReport only: write report.html (default true). */
  readonly report?: boolean;
  /** compareWithReport only: frames drawn as overlays and size histograms. */
  readonly overlayFrames?: number;
  readonly histogramFrames?: number;
  /** compareWithReport only: the command line, shown in the report. */
  readonly command?: string;
  readonly log?: (line: string) => void;
  /** `runBudget`: each agent's budget per run in its own evaluations (a policy agent: visits); `framesPerEvaluation`: S. */
  readonly onPlan?: (plan: {
    readonly runs: readonly { agent: string; seed: number }[];
    readonly budget: number;
    readonly framesPerEvaluation: number;
    readonly runBudget: Readonly<Record<string, number>>;
  }) => void;
  readonly onRunStart?: (run: { agent: string; kind: AgentKind; seed: number; index: number; total: number; resumed: boolean; budget: number }) => void;
  /** Each evaluation of a run (a policy run: each visit; `done` and `budget` count visits). */
  readonly onEvaluation?: (event: EvaluationEvent & { readonly agent: string; readonly seed: number }) => void;
  readonly onRunEnd?: (run: { agent: string; kind: AgentKind; seed: number; status: string; evaluations: number; budget: number; error?: string }) => void;
}

export interface CompareResult {
  readonly summary: CompareSummary;
  readonly partial: boolean;
  /** The signal stopped the runs (the report then skips its pictures). */
  readonly interrupted: boolean;
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
  if (options.agents.length === 0) throw new SamstarError('ARGUMENT_INVALID', 'name at least one agent to compare', { hint: 'e.g. --agents cmaes,bo,grid,random,ppo' });
  const agents = options.agents.map((a) => {
    if (!TASK_AGENT_NAMES.includes(a)) throw new SamstarError('ARGUMENT_INVALID', `--agents: unknown agent "${a}"`, { hint: suggestName(a, TASK_AGENT_NAMES) });
    return a;
  });
  if (new Set(agents).size !== agents.length) throw new SamstarError('ARGUMENT_INVALID', `--agents lists an agent twice (${agents.join(', ')})`);
  const arms = compareArms(base, agents, options.segmenters);
  const labels = arms.map((a) => a.label);
  const seeds = typeof options.seeds === 'number' ? seedList(base.seed, options.seeds) : [...options.seeds];
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0) || new Set(seeds).size !== seeds.length) {
    throw new SamstarError('ARGUMENT_INVALID', `seeds must be distinct whole numbers ≥ 0 (got ${seeds.join(', ') || 'none'})`);
  }
  // The task's agent options belong to its agent; the others run with their defaults.
  const optionsOf = (agent: string): Record<string, unknown> => {
    if (agent !== base.agent.name) return {};
    // Policy agents' options are stored as written ("Infinity" strings), as samstar train stores them.
    return isPolicyAgentName(agent) ? parseTaskAgent({ name: agent, options: base.agent.options }, 'agent').options : parseAgentOptions(agent, base.agent.options, 'agent');
  };
  for (const agent of agents) optionsOf(agent);
  // Every run spends `budget` × S frames: S per black-box evaluation; one per policy visit, plus F for the final policy on every frame.
  const framesPerEvaluation = framesPerEvaluationOf(base);
  const frames = base.data.frames.length;
  const runBudget = (agent: string): number => (agentKind(agent) === 'policy' ? policyVisitBudget(budget, framesPerEvaluation, frames) : budget);
  const policyAgents = agents.filter((a) => agentKind(a) === 'policy');
  if (policyAgents.length && runBudget(policyAgents[0]) < 1) {
    throw new SamstarError('ARGUMENT_INVALID', `budget ${budget} is too small for ${policyAgents.join(', ')}: a policy run gets budget × ${framesPerEvaluation} frames, ${frames} of them for scoring its final policy on every frame, which leaves no visit to learn from`, {
      hint: `give a budget of at least ${Math.floor(frames / framesPerEvaluation) + 1}`,
    });
  }
  // --init-policy is read and checked here, before the plan is written or any run starts: a bad folder, or a
  // policy that does not tune this task's knobs, fails at once with nothing computed lost.
  let policyInit: PolicyInit | null = null;
  if (options.initPolicy !== undefined) {
    if (arms.some((a) => a.segmenter !== base.segmenter.name)) {
      throw new SamstarError('ARGUMENT_INVALID', `--init-policy starts policies on the task's own segmenter (${base.segmenter.name}); --segmenters ${options.segmenters?.join(',')} compares others too`, {
        hint: 'compare several segmenters without --init-policy, or warm-start a comparison on one segmenter',
      });
    }
    if (policyAgents.length === 0) {
      throw new SamstarError('ARGUMENT_INVALID', `--init-policy warm-starts the policy agents (ppo, reinforce), but --agents ${agents.join(',')} has none`, {
        hint: 'add ppo or reinforce to --agents, or leave out --init-policy',
      });
    }
    // An absolute path, so that `source` (the policy's id and folder) reads the same on a resume from another working folder.
    const path = resolve(options.initPolicy);
    // Loaded only here: policy-train brings tfjs, and a policy agent will run anyway.
    const { initFromPolicy } = await import('../train/policy-train.js');
    const { x, source } = await initFromPolicy(path, base).catch((error: unknown) => {
      // Policy.load's errors (no policy.json, a broken one) name the file but not the flag they came from.
      if (error instanceof SamstarError && !error.message.startsWith('--init-policy')) {
        throw new SamstarError(error.code, `--init-policy: ${error.message}`, { hint: error.hint, cause: error });
      }
      throw error;
    });
    policyInit = { path, source, x, knobs: new KnobSpace(base.knobSpace).fromNormalised(x) };
  }

  const planPath = join(out, PLAN_FILE);
  let plan: ComparePlan;
  if (existsSync(planPath)) {
    if (!options.resume) {
      throw new SamstarError('ARGUMENT_INVALID', `${out} already holds a comparison (${PLAN_FILE})`, { hint: 'continue it with --resume, or choose another --out folder' });
    }
    plan = await readPlan(out);
    if (plan.agents.join(',') !== labels.join(',') || plan.seeds.join(',') !== seeds.join(',')) {
      throw new SamstarError('CONFIG_INVALID', `--resume: ${out} compares ${plan.agents.join(', ')} over seeds ${plan.seeds.join(', ')}, not ${labels.join(', ')} over ${seeds.join(', ')}`, {
        hint: 'resume with the same --agents, --segmenters and --seeds (only --budget may change)',
      });
    }
    // The policy runs already started from the plan's warm start; the rest must start there too.
    if (!samePolicyInit(plan.policyInit, policyInit)) {
      throw new SamstarError('CONFIG_INVALID', `--resume: ${out} started its policy runs ${describePolicyInit(plan.policyInit)}, not ${describePolicyInit(policyInit)}`, {
        hint: plan.policyInit ? `resume with --init-policy ${plan.policyInit.path} (as the comparison started)` : 'resume without --init-policy (as the comparison started)',
      });
    }
    plan = { ...plan, budget };
  } else {
    if (options.resume) throw new SamstarError('IO_ERROR', `nothing to resume: ${planPath} does not exist`, { hint: 'run without --resume to start a comparison' });
    plan = { format: PLAN_FORMAT, created: new Date().toISOString(), agents: labels, seeds, budget, task: base, policyInit };
  }
  await mkdir(out, { recursive: true });
  await writeFileAtomic(planPath, `${JSON.stringify(plan, null, 2)}\n`);

  // `agent` in runs, events and the summary is the arm's label (the agent itself unless several segmenters are compared).
  const order = seeds.flatMap((seed) => arms.map((arm) => ({ agent: arm.label, arm, seed })));
  options.onPlan?.({ runs: order.map(({ agent, seed }) => ({ agent, seed })), budget, framesPerEvaluation, runBudget: Object.fromEntries(arms.map((a) => [a.label, runBudget(a.agent)])) });
  const errors = new Map<string, string>();
  const segmenters = new ArmSegmenters(base, [options.segmenter, ...(options.sharedSegmenters ?? [])]);
  try {
    for (let index = 0; index < order.length; index++) {
      if (options.signal?.aborted) break;
      const { agent, arm, seed } = order[index];
      const segmenter = await segmenters.get(arm.segmenter);
      const folder = join(out, runFolder(agent, seed));
      const resumed = existsSync(join(folder, STUDY_FILE));
      const kind = agentKind(arm.agent);
      const runTotal = runBudget(arm.agent);
      options.onRunStart?.({ agent, kind, seed, index, total: order.length, resumed, budget: runTotal });
      const task: ResolvedTask = { ...armTask(base, agent), name: `${base.name}-${agent}-seed${seed}`, agent: { name: arm.agent, options: optionsOf(arm.agent) }, seed, budget: runTotal };
      const runOptions = {
        out: folder,
        resume: resumed,
        segmenter,
        signal: options.signal,
        workers: options.workers,
        remote: options.remote,
        onEvaluation: (event: EvaluationEvent) => options.onEvaluation?.({ ...event, agent, seed }),
      };
      try {
        if (kind === 'policy') {
          // Loaded only when a policy agent runs (it brings tfjs).
          const { trainPolicy } = await import('../train/policy-train.js');
          // The warm start, as samstar train --init-policy passes it (trainPolicy stores it with the study and checks it on resume).
          const init = policyInit ? { x: policyInit.x, source: policyInit.source, path: policyInit.path } : undefined;
          const result = await trainPolicy(task, { ...runOptions, init });
          options.onRunEnd?.({ agent, kind, seed, status: result.status, evaluations: result.summary.evaluations, budget: runTotal });
        } else {
          const result = await train(task, runOptions);
          options.onRunEnd?.({ agent, kind, seed, status: result.run.status, evaluations: result.summary.evaluations, budget: runTotal });
        }
      } catch (error) {
        const message = error instanceof SamstarError ? error.describe() : error instanceof Error ? error.message : String(error);
        errors.set(`${agent}:${seed}`, message);
        log(`${agent} seed ${seed}: failed: ${message.split('\n')[0]}`);
        options.onRunEnd?.({ agent, kind, seed, status: 'failed', evaluations: 0, budget: runTotal, error: message });
        if (error instanceof SamstarError && error.code === 'CONFIG_INVALID' && resumed) throw error; // a resume that does not match: stop
      }
    }

    const interrupted = options.signal?.aborted === true;
    const runs = (await loadCompareRuns(out, plan)).map((r) => {
      const error = errors.get(`${r.agent}:${r.seed}`);
      return error ? { ...r, error } : r;
    });
    const summary = buildCompareSummary({ kind: 'compare', task: base, agents: labels, seeds, budget, runs, interrupted, wallSeconds: (performance.now() - started) / 1000, policyInit: plan.policyInit });
    await writeFileAtomic(join(out, COMPARE_SUMMARY_FILE), `${JSON.stringify(summary, null, 2)}\n`);
    await writeFileAtomic(join(out, COMPARE_CSV_FILE), compareCsv(summary));
    return {
      summary,
      partial: summary.status === 'partial',
      interrupted,
      paths: { summary: join(out, COMPARE_SUMMARY_FILE), csv: join(out, COMPARE_CSV_FILE), plan: planPath },
    };
  } finally {
    await segmenters.dispose();
  }
}

/** Whether two warm starts are the same: the same folder, the same policy in it (its id is a content hash) and the same knobs. */
function samePolicyInit(a: PolicyInit | null, b: PolicyInit | null): boolean {
  if (a === null || b === null) return a === b;
  return a.path === b.path && a.source === b.source && a.x.length === b.x.length && a.x.every((v, i) => v === b.x[i]);
}

function describePolicyInit(init: PolicyInit | null): string {
  return init ? `at --init-policy ${init.source}` : 'from scratch (no --init-policy)';
}

export function seedList(first: number, count: number): number[] {
  if (!Number.isInteger(count) || count < 1) throw new SamstarError('ARGUMENT_INVALID', `--seeds must be a whole number ≥ 1 (got ${count})`);
  return Array.from({ length: count }, (_, i) => first + i);
}
