import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { warmStartBias } from '../../agents/policy/heads.js';
import { createPolicyAgent, isPolicyAgentName } from '../../agents/policy/registry.js';
import { toTransition, updateRecord, type LearnStats, type PolicyAgent, type Transition, type UpdateRecord } from '../../agents/policy/types.js';
import { TuneEnv } from '../../envs/tune-env.js';
import { remoteEvaluator, type RedisEvaluator } from '../distributed/evaluator.js';
import { compileReward } from '../../rewards/index.js';
import { FEATURE_NAMES, frameFeatures } from '../image/features.js';
import { meanScores, scorePrediction, type ImageScores } from '../measure/evaluate.js';
import { writeNetworkPolicy } from '../policy/policy.js';
import { KnobSpace, type KnobValues } from '../segmenters/knobs.js';
import { loadTaskSegmenter } from '../segmenters/registry.js';
import type { Segmenter } from '../segmenters/types.js';
import { effectiveStatus, StudyStore, type EvaluationRecord, type StudyInfo } from '../store/index.js';
import { SamstarError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { Rng } from '../util/rng.js';
import { defaultAdaptSettings, policyProvenance } from './provenance.js';
import { storedWarmStart, type RunSummaryBase, type WarmStart } from './summary.js';
import type { ResolvedTask } from './task.js';
import { checkTaskSegmenter, fileFrameSource, openOrCreateStudy, POLICY_DIR, STUDY_FILE, SUMMARY_FILE, type TrainOptions } from './train.js';

/**
 * `samstar train --agent ppo|reinforce`: a contextual policy, trained as a
 * contextual bandit over the task's frames (TuneEnv's one-step view): the
 * observation is a frame's feature vector (src/image/features.ts), the action
 * the full normalised tuned-knob vector, the reward the task's reward of that
 * frame segmented with those knobs.
 *
 * Loop: the frames are visited in passes, each pass in an order shuffled from
 * the seed; each visit is one evaluation (stored in OUT/study.sqlite like every
 * black-box evaluation: generation = rollout, candidate = position in it,
 * x = the action, frames = [the frame]); after every `rolloutSize` visits the
 * agent learns from the batch. The observation statistics are fitted on all
 * training frames up front and frozen (the deployed policy sees the same
 * normalisation). A thrown evaluation is stored with its error and left out of
 * the batch; five in a row stop the run.
 *
 * Resume = replay, as for black-box agents: the agent is rebuilt from the seed,
 * every stored visit takes its stored reward (after checking that the agent
 * chose exactly the stored action for the same frame) and the updates are
 * recomputed; the rest runs live. This reproduces the uninterrupted run when
 * learning is deterministic, which it is for a seed on one tfjs backend; a
 * mismatch (another backend, other options) is a CONFIG_INVALID error that says
 * so. A budget that ends inside a rollout leaves that partial rollout
 * unlearned (as the runner does not tell a partial generation).
 *
 * At the end: the deterministic policy (its mean) on every frame, against the
 * default knobs (and against the labels when the task has them), written to
 * OUT/summary.json, and the network policy to OUT/policy/.
 */
export interface PolicyTrainOptions extends TrainOptions {
  /**
   * Warm start: the policy's mean starts at these normalised tuned knobs (the
   * output layer's bias; its weights start near 0), e.g. the best static knobs
   * of a CMA-ES run, so PPO learns per-frame corrections around them. Stored
   * with the study; a resumed run reuses the stored start (a different one is an error).
   */
  readonly init?: { readonly x: readonly number[]; readonly source?: string; readonly path?: string };
  /** After each update of the agent. */
  readonly onUpdate?: (event: { readonly update: number; readonly stats: LearnStats; readonly done: number; readonly budget: number }) => void;
}

export interface PolicyPoint {
  readonly total: number;
  readonly terms: Record<string, number>;
  readonly labelScores?: ImageScores;
}

/** OUT/summary.json of a policy run (`evaluations` and `budget` count frame visits). */
export interface PolicyTrainSummary extends RunSummaryBase {
  readonly kind: 'policy';
  readonly rolloutSize: number;
  readonly updates: number;
  /** Default knobs on every frame. */
  readonly default: PolicyPoint | null;
  /** The deterministic policy on every frame (its own knobs per frame). */
  readonly policy: (PolicyPoint & { readonly perFrame: { frame: string; total: number; knobs: KnobValues }[] }) | null;
  /** One entry per update: mean batch reward, losses, entropy, σ. */
  readonly learning: (UpdateRecord & { readonly update: number })[];
  readonly timing: { readonly totalEvaluationMs: number; readonly meanEvaluationMs: number | null; readonly learnMs: number; readonly wallMs: number };
  readonly policyDir: string | null;
  /** The warm start, when there was one. */
  readonly init?: WarmStart;
}

export interface PolicyTrainResult {
  readonly summary: PolicyTrainSummary;
  readonly status: 'finished' | 'interrupted';
  readonly paths: { readonly study: string; readonly summary: string; readonly policy?: string };
}

/** The frame visited at position p: passes over the frames, each in an order shuffled from the seed. */
export function visitOrder(seed: number, frames: number): (position: number) => number {
  const passes = new Map<number, number[]>();
  return (position) => {
    const pass = Math.floor(position / frames);
    let order = passes.get(pass);
    if (!order) {
      order = new Rng(mix(seed, pass)).shuffle(Array.from({ length: frames }, (_, i) => i));
      passes.set(pass, order);
      passes.delete(pass - 2);
    }
    return order[position % frames];
  };
}

export async function trainPolicy(task: ResolvedTask, options: PolicyTrainOptions): Promise<PolicyTrainResult> {
  if (!isPolicyAgentName(task.agent.name)) {
    throw new SamstarError('ARGUMENT_INVALID', `trainPolicy: agent "${task.agent.name}" is a black-box agent; use train()`);
  }
  const wallStart = performance.now();
  const out = resolve(options.out);
  const studyPath = join(out, STUDY_FILE);
  const exists = existsSync(studyPath);
  if (exists && !options.resume) {
    throw new SamstarError('ARGUMENT_INVALID', `${out} already holds a study (${STUDY_FILE})`, { hint: 'continue it with --resume, or choose another --out folder' });
  }
  if (!exists && options.resume) {
    throw new SamstarError('IO_ERROR', `nothing to resume: ${studyPath} does not exist`, { hint: 'run without --resume to start a new study' });
  }
  const signal = options.signal ?? new AbortController().signal;
  const store = StudyStore.open(studyPath);
  let segmenter: Segmenter | undefined = options.segmenter;
  const ownsSegmenter = segmenter === undefined;
  let env: TuneEnv | undefined;
  let remote: RedisEvaluator | undefined;
  let live = false;
  let studyId: number | undefined;
  let previousStatus: StudyInfo['status'] = 'created';
  try {
    let study: StudyInfo = openOrCreateStudy(store, task, exists, studyPath);
    studyId = study.id;
    if (effectiveStatus(study) === 'running' && study.pid !== process.pid) {
      throw new SamstarError('ARGUMENT_INVALID', `study "${study.name}" in ${studyPath} is being run by process ${study.pid} on ${study.host}`, { hint: 'wait for it to finish, or stop it first' });
    }
    previousStatus = effectiveStatus(study) === 'running' ? 'interrupted' : study.status;
    const history = store.evaluations(study.id);
    if (history.length > task.budget) {
      throw new SamstarError('ARGUMENT_INVALID', `study "${study.name}" already holds ${history.length} evaluations, more than the budget of ${task.budget}`, { hint: `give a budget of at least ${history.length}` });
    }
    options.onStart?.({ study, resumed: exists, stored: history.length, budget: task.budget, frames: task.data.frames.length });

    segmenter ??= await loadTaskSegmenter(task.segmenter);
    checkTaskSegmenter(task, segmenter);
    const space = new KnobSpace(task.knobSpace);
    const reward = compileReward(task.reward.config);
    const source = fileFrameSource(task);
    remote = await remoteEvaluator(options.remote, segmenter, reward);
    env = new TuneEnv({ segmenter, ...(remote ? { evaluator: remote } : { workers: options.workers ?? 1 }), frames: source, reward, space, fixed: task.segmenter.fixed, seed: task.seed });
    const fullSpace = segmenter.knobs;
    const labelled = task.data.labels?.some((l) => l !== null) ?? false;
    const wantScores = labelled && (options.labelScores ?? true);
    const n = source.length;

    if (options.init) {
      const x = options.init.x;
      if (x.length !== space.dimension || x.some((v) => !Number.isFinite(v))) {
        throw new SamstarError('ARGUMENT_INVALID', `policy warm start: ${x.length} values for ${space.dimension} tuned knobs (${space.names.join(', ')}), or not finite`);
      }
    }
    const storedInit = storedWarmStart(study);
    if (storedInit && options.init && (storedInit.x.length !== options.init.x.length || storedInit.x.some((v, i) => v !== options.init!.x[i]))) {
      throw new SamstarError('CONFIG_INVALID', `--resume: the study was warm-started at [${storedInit.x.join(', ')}]${storedInit.source ? ` (${storedInit.source})` : ''}, not at [${options.init.x.join(', ')}]`, {
        hint: 'resume without a warm start (the stored one is used), or start a new study (another --out)',
      });
    }
    if (!storedInit && options.init && study.default) {
      throw new SamstarError('CONFIG_INVALID', '--resume: the study was started without a warm start; it cannot gain one now', {
        hint: 'resume without --init-policy, or start a new study (another --out)',
      });
    }
    const init = options.init
      ? { x: [...options.init.x], ...(options.init.source ? { source: options.init.source } : {}), ...(options.init.path ? { path: options.init.path } : {}) }
      : storedInit;
    if (!study.default) {
      const evaluation = await env.evaluate(env.mapping.defaults('segmenter.fixed'));
      const scores = wantScores ? await labelScoresPerFrame(segmenter, source, () => evaluation.knobs) : undefined;
      store.setDefault(study.id, {
        total: evaluation.reward,
        terms: evaluation.terms,
        extra: { knobs: evaluation.knobs, perFrame: evaluation.perFrame.map((p) => p.total), ...(scores ? { labelScores: scores } : {}), ...(init ? { init } : {}) },
      });
      study = store.study(study.id);
    }
    options.onDefault?.({ total: study.default!.total, terms: study.default!.terms });

    // Observations: every frame's features, computed once.
    const features: Float64Array[] = [];
    for (let i = 0; i < n; i++) features.push(Float64Array.from(frameFeatures((await source.load(i)).frame)));
    // Choice knobs (polarity, prompt strategy) get categorical heads unless the task's options say otherwise.
    const agent = createPolicyAgent(task.agent.name, FEATURE_NAMES.length, space.dimension, task.seed, { categories: choiceCounts(space), ...task.agent.options });
    agent.fitNormalizer(features);
    agent.freezeNormalizer(true);
    if (init) {
      // The network's output is ≈ its last bias at the start (output weights are drawn with gain 0.01).
      const pi = agent.policy.pi;
      pi.biases[pi.layers - 1].set(warmStartBias(agent.policy.heads, init.x));
    }
    const rollout = agent.rolloutSize;
    const frameAt = visitOrder(task.seed, n);

    const stored = new Map<number, EvaluationRecord>();
    for (const e of history) stored.set(e.index, e);
    store.setStatus(study.id, 'running', { budget: task.budget, message: null, stopReasons: [] });
    const stopReasons: string[] = [];
    const learning: PolicyTrainSummary['learning'] = [];
    let batch: Transition[] = [];
    let best: EvaluationRecord | undefined;
    let replayed = 0;
    let failures = 0;
    let learnMs = 0;
    let done = 0;
    for (let p = 0; ; p++) {
      if (p >= task.budget) {
        stopReasons.push('budget');
        break;
      }
      if (signal.aborted) {
        stopReasons.push('aborted');
        break;
      }
      const generation = Math.floor(p / rollout);
      const candidate = p % rollout;
      const frame = frameAt(p);
      const observation = features[frame];
      const acted = agent.act(observation);
      const x = [...acted.action];
      let record = stored.get(p);
      const wasReplayed = record !== undefined;
      if (record) {
        verifyReplay(record, x, frame, p);
        stored.delete(p);
        replayed++;
      } else {
        live = true;
        const knobs = env.knobsOf(x);
        const started = performance.now();
        try {
          const evaluation = await env.evaluate(knobs, [frame]);
          record = {
            index: p,
            generation,
            candidate,
            x,
            knobs: evaluation.knobs,
            total: evaluation.reward,
            terms: evaluation.terms,
            frames: [frame],
            perFrame: [evaluation.reward],
            ms: performance.now() - started,
            created: new Date().toISOString(),
          };
          failures = 0;
        } catch (error) {
          if (signal.aborted) {
            stopReasons.push('aborted');
            break;
          }
          failures++;
          record = { index: p, generation, candidate, x, knobs, total: Number.NaN, terms: {}, frames: [frame], ms: performance.now() - started, created: new Date().toISOString(), error: describe(error) };
          if (failures >= 5) {
            store.recordEvaluation(study.id, record);
            throw new SamstarError('IO_ERROR', `5 evaluations in a row failed; last: ${describe(error)}`, { hint: 'every evaluation so far is stored; fix the cause and resume (samstar train --resume)', cause: error });
          }
        }
        store.recordEvaluation(study.id, record);
      }
      done++;
      if (Number.isFinite(record.total)) {
        if (!best || record.total > best.total) best = record;
        batch.push(toTransition(observation, acted, record.total, true));
      }
      options.onEvaluation?.({ evaluation: record, replayed: wasReplayed, done, budget: task.budget, best });
      if (candidate === rollout - 1 && batch.length > 0) {
        const stats = await agent.learn(batch);
        learnMs += stats.milliseconds;
        batch = [];
        learning.push({ update: learning.length + 1, ...updateRecord(stats) });
        options.onUpdate?.({ update: learning.length, stats, done, budget: task.budget });
      }
      // Cached evaluations never leave the microtask queue: let Ctrl-C and timers run.
      await new Promise<void>((r) => setImmediate(r));
    }
    if (stored.size > 0 && !stopReasons.includes('aborted')) {
      const left = [...stored.values()].sort((a, b) => a.index - b.index)[0];
      throw new SamstarError('CONFIG_INVALID', `resume: the study holds ${stored.size} evaluation(s) beyond this run (first: #${left.index})`, {
        hint: 'give a budget of at least the stored evaluations, or start a new study (another --out)',
      });
    }
    const status = stopReasons.includes('aborted') ? 'interrupted' : 'finished';
    store.setStatus(study.id, status, { stopReasons });
    study = store.study(study.id);
    const evaluations = store.evaluations(study.id);

    // The deterministic policy on every frame, then the artefact.
    let policyPoint: PolicyTrainSummary['policy'] = null;
    let policyDir: string | undefined;
    if (status === 'finished') {
      const tuneEnv = env;
      const chosen = features.map((f) => tuneEnv.knobsOf(agent.act(f, { deterministic: true }).action));
      const perFrame: { frame: string; total: number; knobs: KnobValues }[] = [];
      const terms: Record<string, number> = {};
      for (let i = 0; i < n; i++) {
        const e = await env.evaluate(chosen[i], [i]);
        perFrame.push({ frame: source.id(i), total: e.reward, knobs: e.tuned });
        for (const [k, v] of Object.entries(e.terms)) terms[k] = (terms[k] ?? 0) + v / n;
      }
      const total = perFrame.reduce((a, r) => a + r.total, 0) / n;
      const scores = wantScores ? await labelScoresPerFrame(segmenter, source, (i) => chosen[i]) : undefined;
      policyPoint = { total, terms, ...(scores ? { labelScores: scores } : {}), perFrame };
      policyDir = join(out, POLICY_DIR);
      await writeNetworkPolicy(policyDir, {
        agent: agent as PolicyAgent,
        segmenter: segmenter.name,
        knobSpace: task.knobSpace,
        fixed: task.segmenter.fixed,
        adapt: defaultAdaptSettings(space, fullSpace),
        provenance: await policyProvenance(task, {
          study: study.name,
          evaluations: evaluations.length,
          trainReward: total,
          defaultReward: study.default?.total,
          updates: learning.length,
          ...(init ? { init } : {}),
        }),
      });
    }
    const extra = (study.default?.extra ?? {}) as { labelScores?: ImageScores };
    const defaultPoint: PolicyPoint | null = study.default ? { total: study.default.total, terms: study.default.terms, ...(extra.labelScores ? { labelScores: extra.labelScores } : {}) } : null;
    const totalMs = evaluations.reduce((a, e) => a + e.ms, 0);
    const summary: PolicyTrainSummary = {
      kind: 'policy',
      study: study.name,
      path: studyPath,
      status: effectiveStatus(study),
      stopReasons,
      agent: task.agent,
      seed: task.seed,
      budget: task.budget,
      evaluations: evaluations.length,
      replayed,
      failed: evaluations.filter((e) => Number.isNaN(e.total)).length,
      frames: n,
      tuned: space.names,
      rolloutSize: rollout,
      updates: learning.length,
      default: defaultPoint,
      policy: policyPoint,
      improvement: defaultPoint && policyPoint ? policyPoint.total - defaultPoint.total : null,
      learning,
      timing: { totalEvaluationMs: totalMs, meanEvaluationMs: evaluations.length ? totalMs / evaluations.length : null, learnMs, wallMs: performance.now() - wallStart },
      policyDir: policyDir ?? null,
      ...(init ? { init } : {}),
    };
    const summaryPath = join(out, SUMMARY_FILE);
    await writeFileAtomic(summaryPath, `${JSON.stringify(summary, null, 2)}\n`);
    return { summary, status, paths: { study: studyPath, summary: summaryPath, ...(policyDir ? { policy: policyDir } : {}) } };
  } catch (error) {
    if (studyId !== undefined) {
      try {
        store.setStatus(studyId, live ? 'failed' : previousStatus, { message: describe(error) });
      } catch {
        // the original error matters more
      }
    }
    throw error;
  } finally {
    await env?.close();
    await remote?.close();
    if (ownsSegmenter && segmenter) await segmenter.dispose();
    store.close();
  }
}

/**
 * A warm start from a static policy folder (e.g. OUT/policy of a cmaes run on
 * the same task): its knobs, normalised in the task's tuned space. The policy
 * must tune the same knobs.
 */
export async function initFromPolicy(dir: string, task: ResolvedTask): Promise<{ x: number[]; source: string; path: string }> {
  const { Policy } = await import('../policy/policy.js');
  const policy = await Policy.load(dir);
  if (policy.kind !== 'static') {
    throw new SamstarError('ARGUMENT_INVALID', `--init-policy ${dir}: a ${policy.kind} policy cannot seed a new network; give a static policy (OUT/policy of a cmaes/bo/grid/random run)`);
  }
  // Knob names are shared across segmenters (blob_threshold exists in both): the segmenter must match too.
  if (policy.segmenterName !== task.segmenter.name) {
    throw new SamstarError('ARGUMENT_INVALID', `--init-policy ${dir}: the policy is for the "${policy.segmenterName}" segmenter, the task uses "${task.segmenter.name}"`, {
      hint: 'warm-start from a run of the same task',
    });
  }
  const space = new KnobSpace(task.knobSpace);
  const missing = space.names.filter((n) => !policy.space.names.includes(n));
  if (missing.length) {
    throw new SamstarError('ARGUMENT_INVALID', `--init-policy ${dir}: the policy does not tune ${missing.map((n) => `"${n}"`).join(', ')} (it tunes ${policy.space.names.join(', ')})`, {
      hint: 'warm-start from a run of the same task',
    });
  }
  const values = policy.manifest.knobs ?? {};
  const x = space.toNormalised(Object.fromEntries(space.names.map((n) => [n, values[n]]))).map((v) => Math.min(1, Math.max(-1, v)));
  return { x, source: `${policy.id} (${dir})`, path: resolve(dir) };
}

/** The summary `samstar train` prints for a policy run. */
export function formatPolicySummary(summary: PolicyTrainSummary): string {
  const num = (v: number | null | undefined, digits = 4): string => (v === null || v === undefined ? '—' : v.toFixed(digits));
  const lines = [
    `study "${summary.study}" (${summary.agent.name} contextual policy, seed ${summary.seed}): ${summary.status} after ${summary.evaluations}/${summary.budget} evaluations, ${summary.updates} update(s) of ${summary.rolloutSize}` +
      (summary.stopReasons.length ? ` (${summary.stopReasons.join(', ')})` : ''),
  ];
  if (summary.failed > 0) lines.push(`  ${summary.failed} evaluation(s) failed (stored with their error, left out of the batches)`);
  if (summary.init) lines.push(`  warm start: ${summary.init.source ?? `[${summary.init.x.map((v) => v.toFixed(3)).join(', ')}]`}`);
  lines.push(`  default knobs:  reward ${num(summary.default?.total)}${summary.default?.labelScores?.msa != null ? `, mSA ${num(summary.default.labelScores.msa, 3)}` : ''}`);
  if (summary.policy) {
    lines.push(`  policy (mean over ${summary.frames} frames, its own knobs per frame): reward ${num(summary.policy.total)}${summary.policy.labelScores?.msa != null ? `, mSA ${num(summary.policy.labelScores.msa, 3)}` : ''}` + (summary.improvement !== null ? ` (${summary.improvement >= 0 ? '+' : ''}${num(summary.improvement)})` : ''));
  }
  const last = summary.learning[summary.learning.length - 1];
  if (last) lines.push(`  last update: mean batch reward ${num(last.meanReward)}, policy σ ${num(last.std, 3)}`);
  lines.push(`  time: ${(summary.timing.wallMs / 1000).toFixed(1)} s (evaluations ${(summary.timing.totalEvaluationMs / 1000).toFixed(1)} s, learning ${(summary.timing.learnMs / 1000).toFixed(1)} s)`);
  return lines.join('\n');
}

async function labelScoresPerFrame(segmenter: Segmenter, source: ReturnType<typeof fileFrameSource>, knobsFor: (i: number) => KnobValues): Promise<ImageScores | undefined> {
  const scores: ImageScores[] = [];
  for (let i = 0; i < source.length; i++) {
    const { frame, truth } = await source.load(i);
    if (!truth) continue;
    scores.push(scorePrediction(await segmenter.segment(frame, knobsFor(i)), truth, { source: source.id(i) }));
  }
  return scores.length ? meanScores(scores) : undefined;
}

function verifyReplay(record: EvaluationRecord, x: readonly number[], frame: number, position: number): void {
  const hint = 'the agent, its options, its seed, the knob space or the tfjs backend changed since the study was written; resume with the stored config on the same machine, or start a new study (another --out)';
  if (record.frames.length !== 1 || record.frames[0] !== frame) {
    throw new SamstarError('CONFIG_INVALID', `resume: evaluation #${position} was on frame ${record.frames.join(', ')}, the replay visits frame ${frame}`, { hint });
  }
  if (record.x.length !== x.length || record.x.some((v, i) => v !== x[i])) {
    throw new SamstarError('CONFIG_INVALID', `resume: evaluation #${position}: the policy chose [${x.join(', ')}] but the study stored [${record.x.join(', ')}]`, { hint });
  }
}

function describe(error: unknown): string {
  if (error instanceof SamstarError) return error.describe();
  return error instanceof Error ? error.message : String(error);
}

function mix(seed: number, pass: number): number {
  let h = (seed ^ 0x6a09e667) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  h = (h + Math.imul(pass + 1, 0x9e3779b1)) >>> 0;
  return Math.imul(h ^ (h >>> 13), 0x297a2d39) >>> 0;
}

/** Per tuned knob: its number of choices (a categorical policy head) for a choice knob, 0 (a Gaussian head) otherwise. */
export function choiceCounts(space: KnobSpace): number[] {
  return space.specs.map((s) => (s.kind === 'choice' && s.choices.length >= 2 ? s.choices.length : 0));
}
