import type { AskTellAgent } from '../../agents/types.js';
import type { KnobValues } from '../segmenters/knobs.js';
import { effectiveStatus, type EvaluationRecord, type StudyStore } from '../store/index.js';
import type { StudyStatus } from '../store/schema.js';
import { SamstarError } from '../util/errors.js';
import { Rng } from '../util/rng.js';

/**
 * The training runner: drives an ask/tell agent against an evaluation function
 * with a budget of evaluations, writing every evaluation to the study store as
 * it completes.
 *
 * Resume by replay: the runner always starts by reading the study's stored
 * evaluations. The agent — rebuilt from the same seed and options — is asked as
 * in the first run; each asked candidate that is already stored (same
 * generation and position, and the asked point must equal the stored one
 * exactly) takes its stored result instead of being evaluated again; the
 * generation is told as usual. Once the history is used up the run continues
 * live. A deterministic agent therefore ends a killed-and-resumed run with
 * exactly the evaluations of an uninterrupted one; a partly stored generation
 * evaluates only its missing candidates.
 */
export interface EvaluationOutcome {
  /** The scalar reward (TuneEnv results may call it `reward`). */
  readonly total?: number;
  readonly reward?: number;
  readonly terms?: Readonly<Record<string, number>>;
  /** Per-frame totals (numbers, or records with a total/reward). */
  readonly perFrame?: readonly unknown[];
  /** The knob values actually evaluated (resolved by the segmenter). */
  readonly knobs?: KnobValues;
}

export interface EvaluateContext {
  readonly index: number;
  readonly generation: number;
  readonly candidate: number;
  /** Frame indices to evaluate on (undefined: the evaluator's own choice, usually all frames). */
  readonly frames: number[] | undefined;
  readonly signal: AbortSignal;
}

/** Anything from `(knobs) => Promise<{ total, terms }>` to a TuneEnv adapter. */
export type EvaluateFn = (knobs: KnobValues, context: EvaluateContext) => Promise<EvaluationOutcome>;

export interface EvaluationEvent {
  readonly evaluation: EvaluationRecord;
  /** Taken from the stored history (resume) rather than evaluated now. */
  readonly replayed: boolean;
  /** Evaluations done so far (replayed ones included). */
  readonly done: number;
  readonly budget: number;
  /** Best finite total so far. */
  readonly best: EvaluationRecord | undefined;
}

export interface GenerationEvent {
  readonly generation: number;
  readonly evaluations: readonly EvaluationRecord[];
  /** Every evaluation of the generation came from the stored history. */
  readonly replayed: boolean;
  readonly best: EvaluationRecord | undefined;
}

export interface FrameSampling {
  /** Frames in the dataset. */
  readonly count: number;
  /** Frames per evaluation; all frames when absent or ≥ count. */
  readonly perEvaluation?: number;
  readonly seed: number;
}

export interface RunStudyOptions {
  readonly store: StudyStore;
  readonly studyId: number;
  /** A fresh agent, built from the study's seed and options. */
  readonly agent: AskTellAgent;
  /** Normalised point → the knob values to evaluate. */
  readonly toKnobs: (x: readonly number[]) => KnobValues;
  readonly evaluate: EvaluateFn;
  /** Total evaluations of the study (stored ones included). */
  readonly budget: number;
  /** Frame subsets per generation (common to all candidates of a generation, so they are ranked on the same frames). */
  readonly frames?: FrameSampling;
  readonly signal?: AbortSignal;
  /** Candidates of one generation evaluated at once (default 1). */
  readonly concurrency?: number;
  /** Stop with status 'failed' after this many evaluations in a row threw (default 5). */
  readonly maxConsecutiveFailures?: number;
  readonly onEvaluation?: (event: EvaluationEvent) => void;
  readonly onGeneration?: (event: GenerationEvent) => void;
}

export interface RunStudyResult {
  readonly status: Extract<StudyStatus, 'finished' | 'interrupted'>;
  /** Why the run ended: 'budget', the agent's stop reasons, or 'aborted'. */
  readonly stopReasons: string[];
  readonly evaluations: number;
  /** How many came from the stored history. */
  readonly replayed: number;
  readonly generations: number;
  readonly best: EvaluationRecord | undefined;
  /** Evaluations whose total is NaN (failed evaluation or undefined reward). */
  readonly nan: number;
}

export async function runStudy(options: RunStudyOptions): Promise<RunStudyResult> {
  const { store, studyId, agent, budget } = options;
  if (!Number.isInteger(budget) || budget < 0) throw new SamstarError('ARGUMENT_INVALID', `budget must be a whole number ≥ 0 (got ${budget})`);
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
  const maxFailures = Math.max(1, Math.floor(options.maxConsecutiveFailures ?? 5));
  const signal = options.signal ?? new AbortController().signal;

  const study = store.study(studyId);
  if (effectiveStatus(study) === 'running' && study.pid !== process.pid) {
    throw new SamstarError('ARGUMENT_INVALID', `study "${study.name}" in ${store.path} is being run by process ${study.pid} on ${study.host}`, {
      hint: 'wait for it to finish, or stop it first',
    });
  }
  const history = store.evaluations(studyId);
  if (history.length > budget) {
    throw new SamstarError('ARGUMENT_INVALID', `study "${study.name}" already holds ${history.length} evaluations, more than the budget of ${budget}`, {
      hint: `give a budget of at least ${history.length}`,
    });
  }
  const stored = new Map<string, EvaluationRecord>();
  for (const e of history) stored.set(`${e.generation}:${e.candidate}`, e);
  const previousStatus: StudyStatus = effectiveStatus(study) === 'running' ? 'interrupted' : study.status;

  let best: EvaluationRecord | undefined;
  let nan = 0;
  let done = 0;
  let replayed = 0;
  let generation = 0;
  let consecutiveFailures = 0;
  let live = false;
  const stopReasons: string[] = [];
  const consider = (e: EvaluationRecord): void => {
    if (Number.isNaN(e.total)) nan++;
    else if (!best || e.total > best.total) best = e;
  };

  store.setStatus(studyId, 'running', { budget, message: null, stopReasons: [] });
  try {
    while (true) {
      if (done >= budget) {
        stopReasons.push('budget');
        break;
      }
      if (signal.aborted) {
        stopReasons.push('aborted');
        break;
      }
      const agentReasons = agent.stop();
      if (agentReasons.length > 0) {
        stopReasons.push(...agentReasons);
        break;
      }
      const candidates = agent.ask();
      if (candidates.length === 0) {
        stopReasons.push('agent asked no candidates');
        break;
      }
      const take = Math.min(candidates.length, budget - done);
      const frames = options.frames ? framesForGeneration(options.frames, generation) : undefined;
      const results: (EvaluationRecord | undefined)[] = new Array(take).fill(undefined);
      const firstIndex = done;

      // Replay what is stored for this generation.
      const missing: number[] = [];
      for (let c = 0; c < take; c++) {
        const record = stored.get(`${generation}:${c}`);
        if (!record) {
          missing.push(c);
          continue;
        }
        verifyReplay(record, candidates[c], firstIndex + c, frames, generation, c);
        stored.delete(`${generation}:${c}`);
        results[c] = record;
        replayed++;
        done++;
        consider(record);
        options.onEvaluation?.({ evaluation: record, replayed: true, done, budget, best });
      }

      // Evaluate the rest live, up to `concurrency` at once; each is stored as it completes.
      let failure: unknown;
      const queue = [...missing];
      const worker = async (): Promise<void> => {
        while (queue.length > 0 && !signal.aborted && failure === undefined) {
          const c = queue.shift()!;
          live = true;
          const x = [...candidates[c]];
          const knobs = options.toKnobs(x);
          const started = performance.now();
          let record: EvaluationRecord;
          try {
            const outcome = await options.evaluate(knobs, { index: firstIndex + c, generation, candidate: c, frames, signal });
            record = toRecord(outcome, { index: firstIndex + c, generation, candidate: c, x, knobs, frames, ms: performance.now() - started });
            consecutiveFailures = 0;
          } catch (error) {
            if (signal.aborted) return; // interrupted mid-evaluation: nothing to store
            consecutiveFailures++;
            record = {
              index: firstIndex + c,
              generation,
              candidate: c,
              x,
              knobs,
              total: Number.NaN,
              terms: {},
              frames: frames ?? [],
              ms: performance.now() - started,
              created: new Date().toISOString(),
              error: describeError(error),
            };
            if (consecutiveFailures >= maxFailures) failure = error;
          }
          store.recordEvaluation(studyId, record);
          results[c] = record;
          done++;
          consider(record);
          options.onEvaluation?.({ evaluation: record, replayed: false, done, budget, best });
          // Cached evaluations resolve without ever leaving the microtask queue: yield, so that
          // signal handlers (Ctrl-C), timers and progress output run between evaluations.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      };
      if (missing.length > 0) await Promise.all(Array.from({ length: Math.min(concurrency, missing.length) }, worker));
      if (failure !== undefined) {
        throw new SamstarError('IO_ERROR', `${maxFailures} evaluations in a row failed; last: ${describeError(failure)}`, {
          hint: 'every evaluation so far is stored; fix the cause and resume (samstar train --resume)',
          cause: failure,
        });
      }
      if (results.some((r) => r === undefined)) {
        stopReasons.push('aborted');
        break;
      }
      const evaluations = results as EvaluationRecord[];
      if (take < candidates.length) {
        // The budget ends inside this generation: the agent is not told a partial generation.
        stopReasons.push('budget');
        options.onGeneration?.({ generation, evaluations, replayed: missing.length === 0, best });
        generation++;
        break;
      }
      agent.tell(candidates, evaluations.map((e) => e.total));
      options.onGeneration?.({ generation, evaluations, replayed: missing.length === 0, best });
      generation++;
    }
    if (stored.size > 0) {
      const left = [...stored.values()].sort((a, b) => a.index - b.index)[0];
      throw new SamstarError(
        'CONFIG_INVALID',
        `resume: the study holds ${stored.size} evaluation(s) the agent did not ask for again (first: #${left.index}, generation ${left.generation}, candidate ${left.candidate})`,
        { hint: 'the agent, its options or its seed changed since the study was written; start a new study (another --out)' },
      );
    }
  } catch (error) {
    store.setStatus(studyId, live ? 'failed' : previousStatus, { message: describeError(error) });
    throw error;
  }
  const status = stopReasons.includes('aborted') ? 'interrupted' : 'finished';
  store.setStatus(studyId, status, { stopReasons });
  return { status, stopReasons, evaluations: done, replayed, generations: generation, best, nan };
}

/** The frames of one generation: all of them, or a seeded subset (sorted), the same for every candidate. */
export function framesForGeneration(sampling: FrameSampling, generation: number): number[] {
  const all = Array.from({ length: sampling.count }, (_, i) => i);
  const k = sampling.perEvaluation;
  if (k === undefined || k >= sampling.count) return all;
  const rng = new Rng(mixSeed(sampling.seed, generation));
  return rng.shuffle(all).slice(0, Math.max(1, k)).sort((a, b) => a - b);
}

function mixSeed(seed: number, generation: number): number {
  let h = (seed ^ 0x5bd1e995) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  h = (h + Math.imul(generation + 1, 0x9e3779b1)) >>> 0;
  return Math.imul(h ^ (h >>> 13), 0x297a2d39) >>> 0;
}

function verifyReplay(record: EvaluationRecord, x: readonly number[], index: number, frames: number[] | undefined, generation: number, candidate: number): void {
  const where = `resume: generation ${generation}, candidate ${candidate}`;
  const hint = 'the agent, its options, its seed or the knob space changed since the study was written; resume with the stored config, or start a new study (another --out)';
  if (record.index !== index) {
    throw new SamstarError('CONFIG_INVALID', `${where}: stored as evaluation #${record.index}, expected #${index}`, { hint });
  }
  if (record.x.length !== x.length || record.x.some((v, i) => v !== x[i])) {
    throw new SamstarError('CONFIG_INVALID', `${where}: the agent asked [${x.join(', ')}] but the study stored [${record.x.join(', ')}]`, { hint });
  }
  if (frames && (record.frames.length !== frames.length || record.frames.some((f, i) => f !== frames[i]))) {
    throw new SamstarError('CONFIG_INVALID', `${where}: frames [${frames.join(', ')}] expected, the study stored [${record.frames.join(', ')}]`, { hint });
  }
}

function toRecord(
  outcome: EvaluationOutcome,
  at: { index: number; generation: number; candidate: number; x: number[]; knobs: KnobValues; frames: number[] | undefined; ms: number },
): EvaluationRecord {
  const raw = outcome.total ?? outcome.reward;
  const total = typeof raw === 'number' ? raw : Number.NaN;
  const perFrame = outcome.perFrame?.map((p) => {
    if (typeof p === 'number') return p;
    const r = p as { total?: unknown; reward?: unknown };
    const v = r?.total ?? r?.reward;
    return typeof v === 'number' ? v : Number.NaN;
  });
  return {
    index: at.index,
    generation: at.generation,
    candidate: at.candidate,
    x: at.x,
    knobs: { ...(outcome.knobs ?? at.knobs) },
    total,
    terms: { ...(outcome.terms ?? {}) },
    frames: at.frames ?? (perFrame ? perFrame.map((_, i) => i) : []),
    ...(perFrame ? { perFrame } : {}),
    ms: at.ms,
    created: new Date().toISOString(),
    ...(Number.isNaN(total) ? { error: 'reward is NaN' } : {}),
  };
}

function describeError(error: unknown): string {
  if (error instanceof SamstarError) return error.describe();
  return error instanceof Error ? error.message : String(error);
}
