import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StudyStore } from '../store/index.js';
import type { PolicyTrainSummary } from '../train/policy-train.js';
import type { TrainSummary } from '../train/summary.js';
import type { ResolvedTask } from '../train/task.js';
import { SamstarError } from '../util/errors.js';
import type { PolicyInit, RunInput } from './summary.js';

/** DIR/compare.json: what a comparison set out to run (written before the first run). */
export const PLAN_FILE = 'compare.json';
export const PLAN_FORMAT = 'samstar-compare-plan';
export const RUNS_DIR = 'runs';
/** A training run folder's files (train.ts's STUDY_FILE and SUMMARY_FILE; not imported from there, which would load mathjs for `samstar report`). */
export const STUDY_FILE = 'study.sqlite';
export const SUMMARY_FILE = 'summary.json';

export interface ComparePlan {
  readonly format: typeof PLAN_FORMAT;
  readonly created: string;
  readonly agents: string[];
  readonly seeds: number[];
  readonly budget: number;
  /** The base task (agent, seed and budget are set per run). */
  readonly task: ResolvedTask;
  /** `--init-policy`: the static policy every policy run starts at; null for none (plans written before the field: read as null). */
  readonly policyInit: PolicyInit | null;
}

/** The run folder of one agent and seed, relative to the compare folder. */
export function runFolder(agent: string, seed: number): string {
  return join(RUNS_DIR, `${agent}-seed${seed}`);
}

export async function readPlan(dir: string): Promise<ComparePlan> {
  const path = join(dir, PLAN_FILE);
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new SamstarError('IO_ERROR', `cannot read ${path}: ${(error as Error).message}`, { hint: 'give the --out folder of a samstar compare run', cause: error });
  }
  const plan = data as ComparePlan;
  if (plan?.format !== PLAN_FORMAT) throw new SamstarError('CONFIG_INVALID', `${path} is not a samstar compare plan`);
  // Plans from before --init-policy have no policyInit: their policy runs started from scratch.
  const init = plan.policyInit ?? null;
  if (init !== null && (typeof init.path !== 'string' || typeof init.source !== 'string' || !Array.isArray(init.x))) {
    throw new SamstarError('CONFIG_INVALID', `${path}: policyInit must hold path, source and x (the --init-policy the comparison started with)`);
  }
  return { ...plan, policyInit: init };
}

/**
 * What is stored of one run: its study (the file's only study, or by name), evaluations and summary.json
 * (a black-box run's TrainSummary or a policy run's PolicyTrainSummary, kind 'policy'), the latter only when
 * it was written for the stored evaluations.
 */
export async function loadRun(studyPath: string, run: { agent: string; seed: number; folder: string; study?: string }): Promise<RunInput> {
  if (!existsSync(studyPath)) return { ...run, study: null, evaluations: [] };
  const store = StudyStore.open(studyPath, { readonly: true });
  let input: RunInput;
  try {
    const study = store.study(run.study);
    input = { agent: run.agent, seed: run.seed, folder: run.folder, study, evaluations: store.evaluations(study.id) };
  } finally {
    store.close();
  }
  const summaryPath = join(dirname(studyPath), SUMMARY_FILE);
  if (existsSync(summaryPath)) {
    try {
      const summary = JSON.parse(await readFile(summaryPath, 'utf8')) as TrainSummary | PolicyTrainSummary;
      if (summary && summary.study === input.study!.name && summary.evaluations === input.evaluations.length) input = { ...input, trainSummary: summary };
    } catch {
      // An unreadable summary.json only costs the label scores (and a policy run's final figures).
    }
  }
  return input;
}

/** Every planned run of a comparison folder, as stored. */
export async function loadCompareRuns(dir: string, plan: ComparePlan): Promise<RunInput[]> {
  const runs: RunInput[] = [];
  for (const agent of plan.agents) {
    for (const seed of plan.seeds) {
      const folder = runFolder(agent, seed);
      runs.push(await loadRun(join(dir, folder, STUDY_FILE), { agent, seed, folder }));
    }
  }
  return runs;
}
