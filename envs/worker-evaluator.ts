import type { CompiledReward, RewardConfig } from '../rewards/index.js';
import { KnobSpace, type KnobValues } from '../src/segmenters/knobs.js';
import { SamstarError } from '../src/util/errors.js';
import { WorkerPool } from '../src/util/worker-pool.js';
import type { EvalWorkerData, EvalWorkerReady, EvalWorkerRequest, EvalWorkerResponse } from './eval-worker.js';
import type { EvalFrame, Evaluator, FrameEvaluation } from './evaluator.js';
import type { SegmenterSpec } from './segmenter-spec.js';

export interface WorkerEvaluatorOptions {
  /** Number of worker threads (each loads its own segmenter). */
  readonly workers: number;
  readonly segmenter: SegmenterSpec;
  /** The reward (its plain config travels to the workers, which compile it again). */
  readonly reward: CompiledReward | RewardConfig;
  /** Byte budget of the frames each worker keeps (default 1 GiB). */
  readonly frameCacheBytes?: number;
  readonly startTimeoutMs?: number;
}

export interface WorkerStats {
  readonly worker: number;
  readonly frames: number;
  readonly decoderRuns: number;
  readonly evaluations: number;
}

/**
 * Frame-parallel evaluation in worker threads. Each worker owns a segmenter
 * built from the spec, so the stage caches (embeddings, proposals, filter
 * results) live in the worker; a frame is pinned to one worker by its hash the
 * first time it is seen (sticky least-loaded, see WorkerPool) and always goes
 * back there, so re-evaluating it with other filter knobs hits that worker's
 * caches. A frame's pixels cross to its worker once (again only if the worker
 * dropped it from its frame store).
 *
 * Results are identical to InProcessEvaluator's: both call `evaluateFrame`.
 */
export class WorkerPoolEvaluator implements Evaluator {
  private readonly sent: Set<string>[];

  private constructor(
    private readonly pool: WorkerPool<EvalWorkerRequest, EvalWorkerResponse, EvalWorkerReady>,
    readonly knobs: KnobSpace,
  ) {
    this.sent = Array.from({ length: pool.size }, () => new Set<string>());
  }

  static async start(options: WorkerEvaluatorOptions): Promise<WorkerPoolEvaluator> {
    const rewardConfig = 'config' in options.reward ? options.reward.config : options.reward;
    const workerData: EvalWorkerData = { segmenter: options.segmenter, reward: rewardConfig, frameCacheBytes: options.frameCacheBytes };
    const pool = await WorkerPool.start<EvalWorkerRequest, EvalWorkerResponse, EvalWorkerReady>({
      entry: workerEntry(),
      size: options.workers,
      workerData,
      startTimeoutMs: options.startTimeoutMs,
    });
    return new WorkerPoolEvaluator(pool, new KnobSpace(pool.ready[0].knobs));
  }

  get workers(): number {
    return this.pool.size;
  }

  /** The worker a frame is (or will be) pinned to. */
  workerOf(item: EvalFrame): number {
    return this.pool.pin(item.frame.hash);
  }

  async evaluate(knobs: KnobValues, frames: readonly EvalFrame[]): Promise<FrameEvaluation[]> {
    return Promise.all(frames.map((item) => this.evaluateOne(knobs, item)));
  }

  private async evaluateOne(knobs: KnobValues, item: EvalFrame): Promise<FrameEvaluation> {
    const worker = this.pool.pin(item.frame.hash);
    const key = `${item.frame.hash}|${item.id}`;
    const sent = this.sent[worker];
    for (let attempt = 0; attempt < 2; attempt++) {
      const withFrame = !sent.has(key);
      sent.add(key);
      const answer = await this.pool.request(worker, {
        type: 'evaluate',
        key,
        id: item.id,
        knobs,
        ...(withFrame ? { frame: item.frame, truth: item.truth } : {}),
      });
      if (answer.type === 'evaluation') return answer.evaluation;
      // The worker dropped the frame from its store: send it again.
      sent.delete(key);
    }
    throw new SamstarError('ARGUMENT_INVALID', `worker ${worker} lost frame ${item.id} twice in a row`, {
      hint: 'raise frameCacheBytes: the frames pinned to one worker do not fit its frame store',
    });
  }

  /** Per-worker counters: frames held, decoder (model) runs, evaluations. */
  async stats(): Promise<WorkerStats[]> {
    const out: WorkerStats[] = [];
    for (let w = 0; w < this.pool.size; w++) {
      const s = await this.pool.request(w, { type: 'stats' });
      if (s.type === 'stats') out.push({ worker: w, frames: s.frames, decoderRuns: s.decoderRuns, evaluations: s.evaluations });
    }
    return out;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

/** eval-worker.js next to this module when compiled (dist/), eval-worker.ts under vitest/tsx. */
function workerEntry(): URL {
  const here = import.meta.url;
  return new URL(here.endsWith('.ts') ? './eval-worker.ts' : './eval-worker.js', here);
}
