import { join } from 'node:path';
import { ScalarisedSearch } from '../../agents/parego.js';
import { createAgent } from '../../agents/registry.js';
import { compileReward, type CompiledReward, type ObjectiveSpec } from '../../rewards/index.js';
import type { KnobSpace, KnobValues } from '../segmenters/knobs.js';
import type { EvaluationRecord, StudyInfo, StudyStore } from '../store/index.js';
import { writeFileAtomic } from '../util/fs.js';
import { archiveOfStudy, maximised, objectiveTerms, PARETO_FILE, paretoFileOf, storedObjectives, type ParetoFile } from './pareto-file.js';
import type { ResolvedTask } from './task.js';

/**
 * Multi-objective `samstar train`: a reward config with two or more `objectives` searches
 * the Pareto front instead of maximising `total`.
 *
 *  - Search: ScalarisedSearch (agents/parego.ts), ParEGO-style augmented Chebyshev
 *    scalarisations with one weight vector per round, each round a fresh run of the task's
 *    agent (CMA-ES warm-started at the best point for its weights, with a smaller step).
 *  - Storage: each evaluation's objective values are stored with its terms
 *    (`objective.NAME`), so the archive is rebuilt from the study, and a resumed run
 *    replays the search exactly as a single-objective one does.
 *  - Outputs: OUT/pareto.json (the front, pareto-file.ts) and the chosen point, which
 *    train() writes as best-knobs.json and the static policy.
 */
export const MO_METHOD = 'parego-rounds: augmented Chebyshev scalarisations (Knowles 2006), one weight vector per round, each driving the task agent';

/** Initial step of a warm-started CMA-ES round, in the normalised box [−1, 1] (a third of the default 0.6: a round refines). */
const WARM_SIGMA = 0.2;

export interface MultiObjectiveRun {
  readonly specs: readonly ObjectiveSpec[];
  readonly agent: ScalarisedSearch;
  /** An env evaluation with its objective values added to the terms (what the study stores). */
  withObjectives<T extends { readonly terms: Record<string, number>; readonly objectives?: readonly number[] }>(evaluation: T): T;
  /** The runner's tell: objective vectors from the records (stored or live). */
  tell(candidates: readonly (readonly number[])[], records: readonly EvaluationRecord[]): void;
  /** The front from the stored study: writes OUT/pareto.json and returns the chosen evaluation. */
  finish(args: { store: StudyStore; study: StudyInfo; out: string }): Promise<{ chosen: EvaluationRecord; file: ParetoFile; path: string } | undefined>;
}

/**
 * The Pareto search over a knob space: ScalarisedSearch whose first round is a uniform random
 * design and whose later rounds each run the given agent (CMA-ES starts at the best point for
 * the round's weights, with step WARM_SIGMA).
 */
export function scalarisedSearch(space: KnobSpace, seed: number, budget: number, objectives: number, inner: { readonly name: string; readonly options: Record<string, unknown> }): ScalarisedSearch {
  const bounds = space.searchBounds();
  return new ScalarisedSearch(bounds, seed, { objectives, maxEvaluations: budget }, (roundSeed, roundBudget, start, round) => {
    // Round 0: a uniform design over the box (ParEGO's initial design), so every later round starts from a spread archive.
    if (round === 0) return createAgent('random', bounds, roundSeed, { maxEvaluations: roundBudget });
    const warm = start && inner.name === 'cmaes' && inner.options.x0 === undefined ? { x0: start, sigma0: (inner.options.sigma0 as number | undefined) ?? WARM_SIGMA } : {};
    return createAgent(inner.name, bounds, roundSeed, { ...inner.options, ...warm, maxEvaluations: roundBudget }, { budget: roundBudget, toNormalised: (v) => space.toNormalised(v) });
  });
}

/** Whether a compiled reward asks for a Pareto search (two or more objectives). */
export function isMultiObjective(reward: CompiledReward): boolean {
  return (reward.objectiveSpecs?.length ?? 0) >= 2;
}

/** The multi-objective run of a task, or undefined for a single-objective reward. */
export function multiObjectiveRun(task: ResolvedTask, reward: CompiledReward, space: KnobSpace): MultiObjectiveRun | undefined {
  if (!isMultiObjective(reward)) return undefined;
  const specs = reward.objectiveSpecs!;
  const agent = scalarisedSearch(space, task.seed, task.budget, specs.length, task.agent);
  return {
    specs,
    agent,
    withObjectives: (evaluation) => ({ ...evaluation, terms: { ...evaluation.terms, ...objectiveTerms(specs, evaluation.objectives) } }),
    tell: (candidates, records) =>
      agent.tellVectors(
        candidates,
        records.map((r) => (Number.isNaN(r.total) ? specs.map(() => Number.NaN) : maximised(specs, storedObjectives(specs, r.terms)))),
      ),
    finish: async ({ store, study, out }) => {
      const records = store.evaluations(study.id);
      const file = paretoOfRecords(study, specs, records, task.segmenter.name);
      if (!file) return undefined;
      const path = join(out, PARETO_FILE);
      await writeFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`);
      const chosen = records.find((r) => r.index === file.chosen.trial)!;
      return { chosen, file, path };
    },
  };
}

/** The front of a stored study's evaluations (undefined when none is finite). */
function paretoOfRecords(study: StudyInfo, specs: readonly ObjectiveSpec[], records: readonly EvaluationRecord[], segmenter: string | undefined): ParetoFile | undefined {
  const archive = archiveOfStudy(specs, records);
  const extra = study.default?.extra as { knobs?: KnobValues } | undefined;
  const defaultPoint = study.default ? { knobs: extra?.knobs ?? {}, terms: study.default.terms } : null;
  return paretoFileOf({ study: study.name, segmenter, method: MO_METHOD, specs, archive, defaultPoint });
}

/** What `samstar report` draws for a stored study: its front, when its reward has two or more objectives. */
export function paretoOfStudy(store: StudyStore, study: StudyInfo): ParetoFile | undefined {
  const task = study.config as ResolvedTask | undefined;
  if (!task?.reward?.config) return undefined;
  const reward = compileReward(task.reward.config);
  if (!isMultiObjective(reward)) return undefined;
  return paretoOfRecords(study, reward.objectiveSpecs!, store.evaluations(study.id), task.segmenter?.name);
}
