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
  /** Tell the agent a complete generation from its records (default: agent.tell with the totals); multi-objective runs tell vectors. */
  readonly tell?: (candidates: readonly (readonly number[])[], evaluations: readonly EvaluationRecord[]) => void;
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

/**
 * Run (or resume) a study: generation by generation, ask the agent, take what
 * the study already stores for those candidates, evaluate the rest live, tell
 * the agent; stop on the budget, the agent's stop reasons or the signal. The
 * study's status says how it ended ('failed' when a live evaluation threw).
 */
export async function runStudy(options: RunStudyOptions): Promise<RunStudyResult> {
  const { store, studyId, budget } = options;
  const run = new StudyRun(options);
  store.setStatus(studyId, 'running', { budget, message: null, stopReasons: [] });
  try {
    let going = true;
    while (going) going = await run.nextGeneration();
    run.checkHistoryUsed();
  } catch (error) {
    store.setStatus(studyId, run.live ? 'failed' : run.previousStatus, { message: describeError(error) });
    throw error;
  }
  const status = run.stopReasons.includes('aborted') ? 'interrupted' : 'finished';
  store.setStatus(studyId, status, { stopReasons: run.stopReasons });
  return { status, stopReasons: run.stopReasons, evaluations: run.done, replayed: run.replayed, generations: run.generation, best: run.best, nan: run.nan };
}

/** One generation in flight: what the agent asked, how many of them the budget allows, and their records so far. */
interface Generation {
  readonly candidates: number[][];
  readonly take: number;
  readonly frames: number[] | undefined;
  readonly firstIndex: number;
  readonly results: (EvaluationRecord | undefined)[];
}

/** The state of one runStudy call, and its steps. */
class StudyRun {
  readonly previousStatus: StudyStatus;
  readonly stopReasons: string[] = [];
  best: EvaluationRecord | undefined;
  nan = 0;
  done = 0;
  replayed = 0;
  generation = 0;
  /** Whether anything was evaluated live (a failure then marks the study 'failed'). */
  live = false;
  private consecutiveFailures = 0;
  private readonly stored = new Map<string, EvaluationRecord>();
  private readonly concurrency: number;
  private readonly maxFailures: number;
  private readonly signal: AbortSignal;

  /** Checks the budget and that no other process runs the study, and reads the stored history. */
  constructor(private readonly options: RunStudyOptions) {
    const { store, studyId, budget } = options;
    if (!Number.isInteger(budget) || budget < 0) throw new SamstarError('ARGUMENT_INVALID', `budget must be a whole number ≥ 0 (got ${budget})`);
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
    this.maxFailures = Math.max(1, Math.floor(options.maxConsecutiveFailures ?? 5));
    this.signal = options.signal ?? new AbortController().signal;
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
    for (const e of history) this.stored.set(`${e.generation}:${e.candidate}`, e);
    this.previousStatus = effectiveStatus(study) === 'running' ? 'interrupted' : study.status;
  }

  /** Ask, replay, evaluate and tell one generation; false once the run is to stop (its reasons are in stopReasons). */
  async nextGeneration(): Promise<boolean> {
    const reasons = this.reasonsToStop();
    if (reasons.length > 0) {
      this.stopReasons.push(...reasons);
      return false;
    }
    const candidates = this.options.agent.ask();
    if (candidates.length === 0) {
      this.stopReasons.push('agent asked no candidates');
      return false;
    }
    const take = Math.min(candidates.length, this.options.budget - this.done);
    const frames = this.options.frames ? framesForGeneration(this.options.frames, this.generation) : undefined;
    const gen: Generation = { candidates, take, frames, firstIndex: this.done, results: new Array(take).fill(undefined) };
    const missing = this.replay(gen);
    if (missing.length > 0) await this.evaluateLive(gen, missing);
    return this.finish(gen, missing.length === 0);
  }

  /** Why not to ask again: the budget is spent, the signal fired, or the agent wants to stop. */
  private reasonsToStop(): string[] {
    if (this.done >= this.options.budget) return ['budget'];
    if (this.signal.aborted) return ['aborted'];
    return this.options.agent.stop();
  }

  /** Take the stored records of this generation's candidates (checked against what was asked); returns the candidates left to evaluate. */
  private replay(gen: Generation): number[] {
    const missing: number[] = [];
    for (let c = 0; c < gen.take; c++) {
      const record = this.stored.get(`${this.generation}:${c}`);
      if (!record) {
        missing.push(c);
        continue;
      }
      verifyReplay(record, gen.candidates[c], gen.firstIndex + c, gen.frames, this.generation, c);
      this.stored.delete(`${this.generation}:${c}`);
      gen.results[c] = record;
      this.replayed++;
      this.record(record, true);
    }
    return missing;
  }

  /** Evaluate the missing candidates live, up to `concurrency` at once, each stored as it completes. */
  private async evaluateLive(gen: Generation, missing: number[]): Promise<void> {
    let failure: unknown;
    const queue = [...missing];
    const worker = async (): Promise<void> => {
      while (queue.length > 0 && !this.signal.aborted && failure === undefined) {
        const c = queue.shift()!;
        this.live = true;
        const outcome = await this.evaluateOne(gen, c);
        if (outcome === 'aborted') return; // interrupted mid-evaluation: nothing to store
        if (outcome.failure !== undefined) failure = outcome.failure;
        this.options.store.recordEvaluation(this.options.studyId, outcome.record);
        gen.results[c] = outcome.record;
        this.record(outcome.record, false);
        // Cached evaluations resolve without ever leaving the microtask queue: yield, so that
        // signal handlers (Ctrl-C), timers and progress output run between evaluations.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, missing.length) }, worker));
    if (failure !== undefined) {
      throw new SamstarError('IO_ERROR', `${this.maxFailures} evaluations in a row failed; last: ${describeError(failure)}`, {
        hint: 'every evaluation so far is stored; fix the cause and resume (samstar train --resume)',
        cause: failure,
      });
    }
  }

  /** One candidate's record: its outcome, or a NaN record with the error; `failure` once too many failed in a row. */
  private async evaluateOne(gen: Generation, c: number): Promise<{ record: EvaluationRecord; failure?: unknown } | 'aborted'> {
    const at = { index: gen.firstIndex + c, generation: this.generation, candidate: c };
    const x = [...gen.candidates[c]];
    const knobs = this.options.toKnobs(x);
    const started = performance.now();
    try {
      const outcome = await this.options.evaluate(knobs, { ...at, frames: gen.frames, signal: this.signal });
      const record = toRecord(outcome, { ...at, x, knobs, frames: gen.frames, ms: performance.now() - started });
      this.consecutiveFailures = 0;
      return { record };
    } catch (error) {
      if (this.signal.aborted) return 'aborted';
      this.consecutiveFailures++;
      const record: EvaluationRecord = {
        ...at,
        x,
        knobs,
        total: Number.NaN,
        terms: {},
        frames: gen.frames ?? [],
        ms: performance.now() - started,
        created: new Date().toISOString(),
        error: describeError(error),
      };
      return this.consecutiveFailures >= this.maxFailures ? { record, failure: error } : { record };
    }
  }

  /** Count a record (best, NaN) and report it. */
  private record(record: EvaluationRecord, replayed: boolean): void {
    this.done++;
    if (Number.isNaN(record.total)) this.nan++;
    else if (!this.best || record.total > this.best.total) this.best = record;
    this.options.onEvaluation?.({ evaluation: record, replayed, done: this.done, budget: this.options.budget, best: this.best });
  }

  /** Tell the agent a complete generation; false when the run stops here (aborted, or the budget ends inside it). */
  private finish(gen: Generation, replayed: boolean): boolean {
    if (gen.results.some((r) => r === undefined)) {
      this.stopReasons.push('aborted');
      return false;
    }
    const evaluations = gen.results as EvaluationRecord[];
    // The budget ends inside this generation: the agent is not told a partial generation.
    const partial = gen.take < gen.candidates.length;
    if (partial) this.stopReasons.push('budget');
    else if (this.options.tell) this.options.tell(gen.candidates, evaluations);
    else this.options.agent.tell(gen.candidates, evaluations.map((e) => e.total));
    this.options.onGeneration?.({ generation: this.generation, evaluations, replayed, best: this.best });
    this.generation++;
    return !partial;
  }

  /** A resumed study must have used up its stored history: leftovers mean the agent asked differently. */
  checkHistoryUsed(): void {
    if (this.stored.size === 0) return;
    const left = [...this.stored.values()].sort((a, b) => a.index - b.index)[0];
    throw new SamstarError(
      'CONFIG_INVALID',
      `resume: the study holds ${this.stored.size} evaluation(s) the agent did not ask for again (first: #${left.index}, generation ${left.generation}, candidate ${left.candidate})`,
      { hint: 'the agent, its options or its seed changed since the study was written; start a new study (another --out)' },
    );
  }
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
