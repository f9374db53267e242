import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { createAgent } from '../../agents/registry.js';
import { TuneEnv, type FrameSource } from '../../envs/tune-env.js';
import { compileReward } from '../../rewards/index.js';
import { loadFrame } from '../image/load.js';
import { readLabelPng } from '../masks/label-png.js';
import { meanScores, scorePrediction, type ImageScores } from '../measure/evaluate.js';
import { KnobSpace, type KnobValues } from '../segmenters/knobs.js';
import { loadTaskSegmenter } from '../segmenters/registry.js';
import type { Segmenter } from '../segmenters/types.js';
import { StudyStore, type EvaluationRecord, type StudyInfo } from '../store/index.js';
import { SamstarError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { writeStaticPolicy } from '../policy/policy.js';
import { isPolicyAgentName } from '../config/task.js';
import { defaultAdaptSettings, policyProvenance } from './provenance.js';
import { remoteEvaluator, type RedisEvaluator, type RemoteExecution } from '../distributed/evaluator.js';
import { runStudy, type EvaluationEvent, type GenerationEvent, type RunStudyResult } from './runner.js';
import { buildSummary, type TrainSummary } from './summary.js';
import { multiObjectiveRun } from './multi-objective.js';
import type { ParetoFile } from './pareto-file.js';
import type { ResolvedTask } from './task.js';

/**
 * `samstar train` as a library call: a resolved task → a study in
 * OUT/study.sqlite, OUT/best-knobs.json and OUT/summary.json.
 *
 * The run folder holds one study. A new run refuses a folder that already has
 * one (unless `resume`); a resumed run checks that the task is the stored one
 * (only the budget may change), rebuilds the agent from the stored seed and
 * options, replays the stored evaluations and continues live.
 */
export interface TrainOptions {
  readonly out: string;
  readonly resume?: boolean;
  readonly signal?: AbortSignal;
  /** A loaded segmenter to reuse (not disposed here); default: load the task's. */
  readonly segmenter?: Segmenter;
  /** Frame-parallel worker threads for evaluations (default 1: in-process). */
  readonly workers?: number;
  /** Evaluate on `samstar worker`s through Redis instead (--redis URL); wins over `workers`. */
  readonly remote?: RemoteExecution;
  /** Score default and best knobs against the labels when there are labels (default true). */
  readonly labelScores?: boolean;
  readonly onStart?: (info: { study: StudyInfo; resumed: boolean; stored: number; budget: number; frames: number }) => void;
  readonly onDefault?: (result: { total: number; terms: Record<string, number> }) => void;
  readonly onEvaluation?: (event: EvaluationEvent) => void;
  readonly onGeneration?: (event: GenerationEvent) => void;
}

export interface TrainResult {
  readonly summary: TrainSummary;
  readonly run: RunStudyResult;
  /** `policy`: OUT/policy, the static policy artefact made from the best knobs (src/policy). */
  readonly paths: { readonly study: string; readonly bestKnobs?: string; readonly summary: string; readonly policy?: string; readonly pareto?: string };
  /** Multi-objective runs: what OUT/pareto.json holds (the front and the chosen point, which best-knobs.json holds). */
  readonly pareto?: ParetoFile;
}

export const STUDY_FILE = 'study.sqlite';
export const BEST_KNOBS_FILE = 'best-knobs.json';
export const SUMMARY_FILE = 'summary.json';
/** The policy artefact folder of a run (static for black-box agents, a network for ppo/reinforce). */
export const POLICY_DIR = 'policy';

/** The run's study: the stored one (which must be for the same task) or a new one for this task. */
export function openOrCreateStudy(store: StudyStore, task: ResolvedTask, exists: boolean, studyPath: string): StudyInfo {
  if (exists) {
    const study = store.study();
    checkSameTask(study.config as ResolvedTask, task, studyPath);
    return study;
  }
  return store.createStudy({
    name: task.name,
    config: task,
    seed: task.seed,
    agent: task.agent.name,
    agentOptions: task.agent.options,
    knobSpace: task.knobSpace,
    budget: task.budget,
  });
}

/** The task stored with the study in OUT (for `--resume` without `--config`). */
export function storedTask(out: string): ResolvedTask {
  const path = join(out, STUDY_FILE);
  if (!existsSync(path)) {
    throw new SamstarError('IO_ERROR', `nothing to resume: ${path} does not exist`, { hint: 'give the --out folder of the run to resume' });
  }
  const store = StudyStore.open(path, { readonly: true });
  try {
    return store.study().config as ResolvedTask;
  } finally {
    store.close();
  }
}

export async function train(task: ResolvedTask, options: TrainOptions): Promise<TrainResult> {
  if (isPolicyAgentName(task.agent.name)) {
    throw new SamstarError('ARGUMENT_INVALID', `agent "${task.agent.name}" trains a contextual policy: use trainPolicy() (src/train/policy-train.ts), not train()`, {
      hint: '`samstar train` picks the right one by the agent name',
    });
  }
  const out = resolve(options.out);
  const studyPath = join(out, STUDY_FILE);
  const exists = existsSync(studyPath);
  if (exists && !options.resume) {
    throw new SamstarError('ARGUMENT_INVALID', `${out} already holds a study (${STUDY_FILE})`, {
      hint: 'continue it with --resume, or choose another --out folder',
    });
  }
  if (!exists && options.resume) {
    throw new SamstarError('IO_ERROR', `nothing to resume: ${studyPath} does not exist`, { hint: 'run without --resume to start a new study' });
  }
  const store = StudyStore.open(studyPath);
  let segmenter: Segmenter | undefined = options.segmenter;
  const ownsSegmenter = segmenter === undefined;
  let env: TuneEnv | undefined;
  let remote: RedisEvaluator | undefined;
  try {
    let study: StudyInfo = openOrCreateStudy(store, task, exists, studyPath);
    const stored = store.evaluationCount(study.id);
    options.onStart?.({ study, resumed: exists, stored, budget: task.budget, frames: task.data.frames.length });

    segmenter ??= await loadTaskSegmenter(task.segmenter);
    checkTaskSegmenter(task, segmenter);
    const space = new KnobSpace(task.knobSpace);
    const reward = compileReward(task.reward.config);
    // Two or more objectives: a Pareto search, pareto.json, and best-knobs.json from the front (multi-objective.ts).
    const mo = multiObjectiveRun(task, reward, space);
    const source = fileFrameSource(task);
    remote = await remoteEvaluator(options.remote, segmenter, reward);
    env = new TuneEnv({
      segmenter,
      ...(remote ? { evaluator: remote } : { workers: options.workers ?? 1 }),
      frames: source,
      reward,
      space,
      fixed: task.segmenter.fixed,
      seed: task.seed,
    });
    const fullSpace = segmenter.knobs;
    const defaultKnobs = env.mapping.defaults('segmenter.fixed');
    const labelled = task.data.labels?.some((l) => l !== null) ?? false;
    const wantScores = labelled && (options.labelScores ?? true);

    // The default knobs, scored once per study on every frame (a corrupt frame fails here, before the run).
    if (!study.default) {
      const evaluation = await env.evaluate(defaultKnobs).then((e) => mo?.withObjectives(e) ?? e);
      const scores = wantScores ? await labelScores(segmenter, source, evaluation.knobs) : undefined;
      store.setDefault(study.id, {
        total: evaluation.reward,
        terms: evaluation.terms,
        extra: { knobs: evaluation.knobs, perFrame: evaluation.perFrame.map((p) => p.total), ...(scores ? { labelScores: scores } : {}) },
      });
      study = store.study(study.id);
    }
    options.onDefault?.({ total: study.default!.total, terms: study.default!.terms });

    const agent = mo?.agent ?? createAgent(task.agent.name, space.searchBounds(), task.seed, task.agent.options, {
      budget: task.budget,
      toNormalised: (values) => space.toNormalised(values),
    });
    const activeEnv = env;
    const run = await runStudy({
      store,
      studyId: study.id,
      agent,
      budget: task.budget,
      // The environment owns the mapping from the agent's point to knobs.
      toKnobs: (x) => activeEnv.knobsOf(x),
      evaluate: (knobs, context) => activeEnv.evaluate(knobs, context.frames).then((e) => mo?.withObjectives(e) ?? e),
      frames: { count: source.length, perEvaluation: task.framesPerEvaluation, seed: task.seed },
      // Redis gone for good stops the run as an interruption (nothing half-done is stored; --resume continues).
      signal: remote ? AbortSignal.any([remote.signal, ...(options.signal ? [options.signal] : [])]) : options.signal,
      onEvaluation: options.onEvaluation,
      onGeneration: options.onGeneration,
      tell: mo?.tell,
    });
    if (remote?.failure) throw remote.failure;
    // Multi-objective: the archive rebuilt from the stored study, OUT/pareto.json, and its chosen point as the best.
    const front = mo ? await mo.finish({ store, study, out }) : undefined;
    const best = mo ? front?.chosen : run.best;

    // The best knobs on every frame (when evaluations used subsets) and against the labels.
    let bestAllFrames: { total: number; terms: Record<string, number> } | undefined;
    let bestScores: ImageScores | undefined;
    const interrupted = run.status === 'interrupted';
    if (best && !interrupted) {
      if (task.framesPerEvaluation !== undefined && task.framesPerEvaluation < source.length) {
        const all = await env.evaluate(best.knobs);
        bestAllFrames = { total: all.reward, terms: all.terms };
      }
      if (wantScores) bestScores = await labelScores(segmenter, source, best.knobs);
    }
    study = store.study(study.id);
    const evaluations = store.evaluations(study.id);
    const summary = buildSummary({ study, task, evaluations, run, bestAllFrames, bestScores, studyPath, ...(mo && best ? { chosen: best } : {}) });
    const paths: { study: string; bestKnobs?: string; summary: string; policy?: string; pareto?: string } = { study: studyPath, summary: join(out, SUMMARY_FILE) };
    if (front) paths.pareto = front.path;
    if (best) {
      paths.bestKnobs = join(out, BEST_KNOBS_FILE);
      await writeFileAtomic(paths.bestKnobs, `${JSON.stringify({ ...bestKnobsFile(study, best, task, evaluations.length), ...(front ? { pareto: front.file.chosen } : {}) }, null, 2)}\n`);
      // The same knobs as a static policy artefact (samstar segment --policy, samstar watch).
      paths.policy = join(out, POLICY_DIR);
      await writeStaticPolicy(paths.policy, {
        segmenter: segmenter.name,
        knobSpace: task.knobSpace,
        fixed: task.segmenter.fixed,
        knobs: best.knobs,
        adapt: defaultAdaptSettings(space, fullSpace),
        provenance: await policyProvenance(task, {
          study: study.name,
          evaluations: evaluations.length,
          trainReward: bestAllFrames?.total ?? best.total,
          defaultReward: study.default?.total,
        }),
      });
    }
    await writeFileAtomic(paths.summary, `${JSON.stringify(summary, null, 2)}\n`);
    return { summary, run, paths, ...(front ? { pareto: front.file } : {}) };
  } finally {
    await env?.close();
    await remote?.close();
    if (ownsSegmenter && segmenter) await segmenter.dispose();
    store.close();
  }
}

/** A segmenter handed in (compare shares one) must be the task's: knob names alone can agree across segmenters. */
export function checkTaskSegmenter(task: ResolvedTask, segmenter: Segmenter): void {
  const wanted = task.segmenter.name ?? 'sam';
  if (segmenter.name !== wanted) {
    throw new SamstarError('ARGUMENT_INVALID', `the task "${task.name}" is for the ${wanted} segmenter, but a ${segmenter.name} segmenter was given`, {
      hint: 'load the task\'s segmenter (loadTaskSegmenter), or change segmenter.name in the task',
    });
  }
}

/** What `samstar segment --knobs` reads: `{ knobs }`, plus where they came from. */
export function bestKnobsFile(study: StudyInfo, best: EvaluationRecord, task: ResolvedTask, evaluations: number): Record<string, unknown> {
  const tuned: KnobValues = {};
  for (const spec of task.knobSpace) tuned[spec.name] = best.knobs[spec.name];
  return {
    knobs: best.knobs,
    tuned,
    reward: best.total,
    terms: best.terms,
    evaluations,
    evaluation: best.index,
    study: study.name,
    agent: task.agent.name,
    seed: task.seed,
    default_reward: study.default?.total ?? null,
  };
}

/** Frames (and their label images) read from disk on demand; the env keeps its own cache. */
export function fileFrameSource(task: ResolvedTask): FrameSource {
  const ids = task.data.frames.map((f) => basename(f));
  const unique = ids.map((id, i) => (ids.indexOf(id) === i ? id : task.data.frames[i]));
  return {
    length: task.data.frames.length,
    id: (i) => unique[i],
    load: async (i) => {
      const frame = await loadFrame(task.data.frames[i], { channel: task.data.channel, pixelSizeNm: task.data.pixelSize });
      const labelPath = task.data.labels?.[i];
      if (!labelPath) return { frame };
      const truth = await readLabelPng(labelPath);
      if (truth.width !== frame.width || truth.height !== frame.height) {
        throw new SamstarError('SIZE_MISMATCH', `labels ${labelPath} are ${truth.width}×${truth.height}, the frame ${task.data.frames[i]} is ${frame.width}×${frame.height}`);
      }
      return { frame, truth };
    },
  };
}

/** Mean label scores (mSA, F1, …) of a knob vector over the frames that have labels. */
async function labelScores(segmenter: Segmenter, source: FrameSource, knobs: KnobValues): Promise<ImageScores> {
  const scores: ImageScores[] = [];
  for (let i = 0; i < source.length; i++) {
    const { frame, truth } = await source.load(i);
    if (!truth) continue;
    const segmentation = await segmenter.segment(frame, knobs);
    scores.push(scorePrediction(segmentation, truth, { source: source.id(i) }));
  }
  return meanScores(scores);
}

/** What must not change between a study and its resumption (the budget may). */
export function taskIdentity(task: ResolvedTask): Record<string, unknown> {
  const { threads: _threads, device: _device, ...segmenter } = task.segmenter;
  const { source: _source, ...rewardConfig } = task.reward.config;
  return {
    data: task.data,
    segmenter,
    knobSpace: task.knobSpace,
    reward: rewardConfig,
    agent: task.agent,
    seed: task.seed,
    framesPerEvaluation: task.framesPerEvaluation ?? null,
  };
}

export function checkSameTask(stored: ResolvedTask, task: ResolvedTask, where: string): void {
  const differences = diffPaths(taskIdentity(stored), taskIdentity(task));
  if (differences.length === 0) return;
  throw new SamstarError('CONFIG_INVALID', `--resume: the task differs from the one stored in ${where} at ${differences.slice(0, 6).join(', ')}${differences.length > 6 ? ', …' : ''}`, {
    hint: 'resume with the same config (only --budget may change), or leave out --config to use the stored one; or start a new study in another --out folder',
  });
}

function diffPaths(a: unknown, b: unknown, path = ''): string[] {
  if (a === b) return [];
  const bothObjects = a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b);
  if (!bothObjects) return [path || '(top level)'];
  const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
  const out: string[] = [];
  for (const key of keys) {
    const va = (a as Record<string, unknown>)[key];
    const vb = (b as Record<string, unknown>)[key];
    if (va === undefined && vb === undefined) continue;
    out.push(...diffPaths(va, vb, path ? `${path}.${key}` : key));
  }
  return out;
}
