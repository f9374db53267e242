import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { Redis, type RedisOptions as IoRedisOptions } from 'ioredis';
import type { EvalFrame, Evaluator, FrameEvaluation } from '../../envs/evaluator.js';
import type { CompiledReward, RewardConfig } from '../../rewards/index.js';
import type { KnobSpace, KnobValues } from '../segmenters/knobs.js';
import type { Segmentation, Segmenter } from '../segmenters/types.js';
import { SamstarError } from '../util/errors.js';
import { bounded, describeRedisUrl, redisOptions, type RedisTarget } from './connection.js';
import { encodeFrame, encodeTruth, relativeToRoot, truthKey } from './frames.js';
import { DEFAULT_NAMESPACE, keys, PROTOCOL_VERSION, queueOf, resultSchema, type EvaluateJob, type JobResult, type SegmenterWire } from './protocol.js';
import { rewardWire, segmenterWire } from './wire.js';
import { WorkerRoster } from './roster.js';

/**
 * RedisEvaluator: the Evaluator of TuneEnv (and so of train, compare and
 * watch) that sends each frame of an evaluation as a BullMQ job to a
 * `samstar worker` and gives the results back in the order of the frames,
 * whatever order they arrive in: a study makes the same evaluations as
 * in-process (workers run the same `evaluateFrame`).
 *
 *  - Frame affinity: a frame is pinned to a live worker (least pinned frames,
 *    then id) the first time it is seen, and its jobs go to that worker's own
 *    queue, so its embeddings and proposals are hit as they are locally.
 *  - A worker whose heartbeat is gone past the grace time counts as dead: its
 *    frames are pinned again and its unfinished jobs go to another worker
 *    (`retried`); a job lost with its worker `maxReassign` times fails.
 *  - A job that throws is retried once by BullMQ (attempts: 2); a job that
 *    fails twice, or is rejected as malformed, fails its evaluation with the
 *    worker's reason (the training runner stores a failed evaluation and goes on).
 *  - Redis lost: ioredis reconnects with back-off; after a reconnection the
 *    frames are uploaded again and jobs that Redis forgot are sent again (a
 *    job id is sent at most once per queue, so resending is safe). Past the
 *    reconnect limit every evaluation fails with a clear error.
 *
 * Entry point: `RedisEvaluator.start`.
 */
export interface RedisEvaluatorOptions {
  readonly redis: RedisTarget;
  /** The segmenter's full knob space (the coordinator loads the segmenter for its defaults and label scores). */
  readonly knobs: KnobSpace;
  /** The segmenter to run on workers (sent as its wire form), or that form. */
  readonly segmenter: Segmenter | SegmenterWire;
  /** The reward of `evaluate` (absent: the evaluator only segments, see `segment`). */
  readonly reward?: CompiledReward | RewardConfig;
  /**
   * How frames reach workers: 'bytes' (default: uploaded once to Redis, as
   * float32 pixels: 4 bytes per sample, kept a day) or 'path' (the frame's file
   * relative to `dataRoot`; each worker reads it under its own --data-root).
   * Label images always travel as bytes.
   */
  readonly frames?: 'bytes' | 'path';
  readonly dataRoot?: string;
  readonly namespace?: string;
  /** How often the roster and the unfinished jobs are checked (default 500 ms). */
  readonly pollMs?: number;
  /** A worker whose heartbeat key is missing this long is dead (default 2 s; its lease comes first). */
  readonly graceMs?: number;
  /** Fail evaluations after this long with no live worker (default 120 s). */
  readonly noWorkerTimeoutMs?: number;
  /** A job lost with its worker this many times fails (default 3). */
  readonly maxReassign?: number;
  readonly onProgress?: (progress: DistributedProgress) => void;
}

export interface DistributedProgress {
  readonly queued: number;
  readonly running: number;
  readonly done: number;
  readonly failed: number;
  /** Jobs sent again after their worker died. */
  readonly retried: number;
  /** Live workers. */
  readonly workers: number;
}

interface Pending {
  readonly base: string;
  readonly item: EvalFrame;
  readonly data: EvaluateJob;
  jobId: string;
  worker?: string;
  running: boolean;
  lost: number;
  sentAt: number;
  readonly resolve: (result: JobResult) => void;
  readonly reject: (error: unknown) => void;
}

export class RedisEvaluator implements Evaluator {
  private readonly pending = new Map<string, Pending>();
  private readonly pins = new Map<string, string>();
  private readonly uploads = new Map<string, Promise<void>>();
  private readonly queues = new Map<string, { queue: Queue; events: QueueEvents }>();
  private readonly counts = { done: 0, failed: 0, retried: 0 };
  private readonly runId = randomUUID().slice(0, 8);
  private seq = 0;
  private timer?: NodeJS.Timeout;
  private broken?: SamstarError;
  private noWorkerSince?: number;
  private closed = false;
  private sweeping = false;
  private readonly lost = new AbortController();

  private constructor(
    readonly knobs: KnobSpace,
    private readonly options: RedisEvaluatorOptions,
    private readonly redis: Redis,
    private readonly connection: ReturnType<typeof redisOptions>,
    private readonly roster: WorkerRoster,
    private readonly wire: { segmenter: SegmenterWire; reward?: Record<string, unknown> },
  ) {}

  static async start(options: RedisEvaluatorOptions): Promise<RedisEvaluator> {
    const dataRoot = resolve(options.dataRoot ?? '.');
    const segmenter = 'segment' in options.segmenter ? segmenterWire(options.segmenter, dataRoot) : options.segmenter;
    const reward = options.reward ? rewardWire('config' in options.reward ? options.reward.config : options.reward) : undefined;
    let evaluator: RedisEvaluator | undefined;
    let early: SamstarError | undefined;
    const connection = redisOptions(options.redis, (error) => (evaluator ? evaluator.fail(error) : (early = error)));
    const redis = new Redis({ ...connection, lazyConnect: true } as IoRedisOptions);
    redis.on('error', () => undefined); // the reconnect policy reports the outcome
    await redis.connect().catch((error: unknown) => {
      redis.disconnect();
      throw new SamstarError('IO_ERROR', `cannot reach Redis at ${describeRedisUrl(options.redis.url)}: ${early?.message ?? (error as Error).message}`, {
        hint: 'start redis-server (and samstar worker --redis URL on the machines that evaluate), or check the URL',
      });
    });
    const ns = options.namespace ?? DEFAULT_NAMESPACE;
    const roster = new WorkerRoster(redis, ns, options.graceMs ?? 2000);
    evaluator = new RedisEvaluator(options.knobs, options, redis, connection, roster, { segmenter, reward });
    // After a reconnection Redis may have lost everything: upload frames again; the sweep resends forgotten jobs.
    let wasDown = false;
    redis.on('close', () => (wasDown = true));
    redis.on('ready', () => {
      if (wasDown) evaluator!.reupload();
      wasDown = false;
    });
    await roster.refresh();
    evaluator.timer = setInterval(() => void evaluator!.sweep(), options.pollMs ?? 500);
    return evaluator;
  }

  /** Aborted when Redis stayed away past the reconnect limit (a study stops on it as on Ctrl-C). */
  get signal(): AbortSignal {
    return this.lost.signal;
  }

  /** Why the evaluator cannot go on (Redis lost past the limit), if it cannot. */
  get failure(): SamstarError | undefined {
    return this.broken;
  }

  /** Live workers, queued/running/done job counts. */
  progress(): DistributedProgress {
    let running = 0;
    for (const p of this.pending.values()) if (p.running) running++;
    return { queued: this.pending.size - running, running, ...this.counts, workers: this.roster.live.size };
  }

  async evaluate(knobs: KnobValues, frames: readonly EvalFrame[]): Promise<FrameEvaluation[]> {
    if (this.broken) throw this.broken;
    if (!this.wire.reward) throw new SamstarError('ARGUMENT_INVALID', 'this Redis evaluator was started without a reward: it can segment, not evaluate');
    const results = await Promise.all(frames.map((item) => this.submit(item, knobs, false)));
    return results.map((r) => {
      if (!r.evaluation) throw new SamstarError('IO_ERROR', `the worker ${r.worker} answered without reward terms`, { hint: 'the coordinator and the workers must run the same samstar version' });
      return r.evaluation;
    });
  }

  /** One frame segmented on a worker (no reward): the segmentation itself, as `segment` returns it locally. */
  async segment(item: EvalFrame, knobs: KnobValues): Promise<Segmentation> {
    if (this.broken) throw this.broken;
    const result = await this.submit(item, knobs, true);
    if (!result.segmentation) throw new SamstarError('IO_ERROR', `frame ${item.id}: the worker answered without the segmentation`, { hint: 'the coordinator and the workers must run the same samstar version' });
    return result.segmentation as unknown as Segmentation;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const closing = new SamstarError('ARGUMENT_INVALID', 'the Redis evaluator was closed with evaluations in flight');
    for (const p of this.pending.values()) p.reject(closing);
    this.pending.clear();
    for (const { queue, events } of this.queues.values()) await bounded(Promise.all([queue.close(), events.close()]));
    this.queues.clear();
    this.redis.disconnect();
  }

  /** One frame's job: uploaded, pinned, queued; settles with the worker's result. */
  private submit(item: EvalFrame, knobs: KnobValues, segmentOnly: boolean): Promise<JobResult> {
    const base = `${this.runId}-${++this.seq}`;
    const data: EvaluateJob = {
      v: PROTOCOL_VERSION,
      type: 'evaluate',
      id: item.id,
      hash: item.frame.hash,
      frame: this.options.frames === 'path' ? { path: relativeToRoot(this.options.dataRoot ?? '.', item.frame.source, `frame ${item.id}:`) } : { bytes: item.frame.hash },
      ...(item.truth ? { truth: truthKey(item.truth) } : {}),
      knobs: { ...knobs },
      segmenter: this.wire.segmenter,
      ...(segmentOnly ? { records: true } : { reward: this.wire.reward }),
    };
    return new Promise<JobResult>((resolve, reject) => {
      const p: Pending = { base, item, data, jobId: base, running: false, lost: 0, sentAt: Date.now(), resolve, reject };
      this.pending.set(base, p);
      this.report();
      this.send(p).catch((error: unknown) => this.settle(p, error));
    });
  }

  /** Upload what the job needs, pin its frame, add it to the worker's queue (waiting for a worker if none lives). */
  private async send(p: Pending): Promise<void> {
    await this.upload(p.item);
    const worker = await this.workerFor(p.item.frame.hash);
    if (!this.pending.has(p.base)) return;
    p.worker = worker;
    p.running = false;
    p.sentAt = Date.now();
    const { queue } = await this.queueOf(worker);
    await queue.add('evaluate', p.data, { jobId: p.jobId, attempts: 2, backoff: { type: 'fixed', delay: 250 }, removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } });
  }

  private upload(item: EvalFrame): Promise<void> {
    const ns = this.namespace;
    const key = `${item.frame.hash}|${item.truth ? truthKey(item.truth) : ''}`;
    let found = this.uploads.get(key);
    if (!found) {
      const day = 24 * 3600;
      const multi = this.redis.multi();
      if (this.options.frames !== 'path') multi.set(keys.frame(ns, item.frame.hash), encodeFrame(item.frame), 'EX', day);
      if (item.truth) multi.set(keys.truth(ns, truthKey(item.truth)), encodeTruth(item.truth), 'EX', day);
      found = multi.exec().then(() => undefined);
      this.uploads.set(key, found);
      found.catch(() => this.uploads.delete(key));
    }
    return found;
  }

  /** The frame's pinned worker while it lives; else the live worker with the fewest pinned frames. */
  private async workerFor(hash: string): Promise<string> {
    for (;;) {
      if (this.broken) throw this.broken;
      if (this.closed) throw new SamstarError('ARGUMENT_INVALID', 'the Redis evaluator is closed');
      const pinned = this.pins.get(hash);
      if (pinned && this.roster.live.has(pinned)) return pinned;
      const live = [...this.roster.live.keys()].sort();
      if (live.length > 0) {
        const load = new Map(live.map((w) => [w, 0]));
        for (const w of this.pins.values()) if (load.has(w)) load.set(w, load.get(w)! + 1);
        const chosen = live.reduce((a, b) => (load.get(b)! < load.get(a)! ? b : a));
        this.pins.set(hash, chosen);
        return chosen;
      }
      this.noWorkerSince ??= Date.now();
      const limit = this.options.noWorkerTimeoutMs ?? 120_000;
      if (Date.now() - this.noWorkerSince > limit) {
        throw new SamstarError('IO_ERROR', `no live samstar worker on ${describeRedisUrl(this.options.redis.url)} for ${Math.round(limit / 1000)} s`, {
          hint: 'start one or more: samstar worker --redis URL (on each machine that evaluates)',
        });
      }
      await new Promise((r) => setTimeout(r, this.options.pollMs ?? 500));
      await this.roster.refresh().catch(() => undefined);
    }
  }

  private get namespace(): string {
    return this.options.namespace ?? DEFAULT_NAMESPACE;
  }

  /** The queue (and its events) of a worker, opened on first use. */
  private async queueOf(worker: string): Promise<{ queue: Queue; events: QueueEvents }> {
    let found = this.queues.get(worker);
    if (!found) {
      const name = queueOf(worker);
      const queue = new Queue(name, { connection: this.connection, prefix: this.namespace });
      const events = new QueueEvents(name, { connection: this.connection, prefix: this.namespace });
      queue.on('error', () => undefined);
      events.on('error', () => undefined);
      events.on('active', ({ jobId }) => {
        const p = this.byJobId(jobId);
        if (p) (p.running = true), this.report();
      });
      events.on('completed', ({ jobId, returnvalue }) => {
        const p = this.byJobId(jobId);
        if (p) this.settle(p, undefined, returnvalue);
      });
      events.on('failed', ({ jobId, failedReason }) => {
        const p = this.byJobId(jobId);
        if (p) this.settle(p, this.jobError(p, failedReason));
      });
      found = { queue, events };
      this.queues.set(worker, found);
      await events.waitUntilReady();
    }
    return found;
  }

  private byJobId(jobId: string): Pending | undefined {
    // Job ids are `${base}` or `${base}~${lost}`.
    const p = this.pending.get(jobId.split('~')[0]);
    return p && p.jobId === jobId ? p : undefined;
  }

  private jobError(p: Pending, reason: string): SamstarError {
    return new SamstarError('IO_ERROR', `frame ${p.item.id}: the worker ${p.worker ?? '?'} failed the job: ${reason}`, {
      hint: 'a job is retried once; the evaluation is stored as failed and the study goes on',
    });
  }

  private settle(p: Pending, error: unknown, value?: unknown): void {
    if (this.pending.get(p.base) !== p) return;
    this.pending.delete(p.base);
    if (error !== undefined) {
      this.counts.failed++;
      p.reject(error);
    } else {
      const parsed = resultSchema.safeParse(value);
      if (!parsed.success) {
        this.counts.failed++;
        const issue = parsed.error.issues[0];
        p.reject(
          new SamstarError('IO_ERROR', `frame ${p.item.id}: the worker ${p.worker ?? '?'} answered with a malformed result (${issue.path.join('.')}: ${issue.message})`, {
            hint: 'the coordinator and the workers must run the same samstar version',
          }),
        );
      } else {
        this.counts.done++;
        p.resolve(parsed.data);
      }
    }
    this.report();
  }

  private report(): void {
    this.options.onProgress?.(this.progress());
  }

  /** Every poll: the roster, the jobs of dead workers, and jobs whose events were missed or that Redis forgot. */
  private async sweep(): Promise<void> {
    // One sweep at a time: while Redis is away they would pile up behind the reconnection.
    if (this.closed || this.broken || this.sweeping) return;
    this.sweeping = true;
    try {
      const { died } = await this.roster.refresh();
      if (this.roster.live.size > 0) this.noWorkerSince = undefined;
      for (const dead of died) await this.bury(dead);
      const stale = Date.now() - 2 * (this.options.pollMs ?? 500);
      for (const p of [...this.pending.values()]) {
        if (!p.worker || p.sentAt > stale || !this.roster.live.has(p.worker)) continue;
        await this.check(p);
      }
      this.report();
    } catch {
      // Redis is away: the reconnect policy decides; the next sweep tries again.
    } finally {
      this.sweeping = false;
    }
  }

  /** A dead worker: unpin its frames, drop its queue, send its unfinished jobs elsewhere. */
  private async bury(worker: string): Promise<void> {
    for (const [hash, w] of this.pins) if (w === worker) this.pins.delete(hash);
    const found = this.queues.get(worker);
    this.queues.delete(worker);
    const maxLost = this.options.maxReassign ?? 3;
    const moved: string[] = [];
    for (const p of [...this.pending.values()]) {
      if (p.worker !== worker) continue;
      moved.push(p.jobId);
      p.lost++;
      if (p.lost > maxLost) {
        this.settle(p, new SamstarError('IO_ERROR', `frame ${p.item.id}: the job lost its worker ${p.lost} times`, { hint: 'workers keep dying: check their logs (memory, the model, the machine)' }));
        continue;
      }
      this.counts.retried++;
      p.jobId = `${p.base}~${p.lost}`;
      p.worker = undefined;
      this.send(p).catch((error: unknown) => this.settle(p, error));
    }
    // Then tidy up, never holding the sweep: our moved jobs leave the dead queue (a job the dead
    // worker held stays 'active' there; a worker that only looked dead keeps its queue and comes back).
    if (found) {
      void (async () => {
        for (const jobId of moved) await bounded(found.queue.remove(jobId));
        await bounded(Promise.all([found.events.close(), found.queue.close()]));
      })();
    }
    await bounded(this.roster.forget(worker));
  }

  /** A job with no news for a while: read its state; resend it when Redis no longer knows it. */
  private async check(p: Pending): Promise<void> {
    const found = this.queues.get(p.worker!);
    if (!found) return;
    // The state first, then the job: a job read before its state could predate its result.
    const state = await found.queue.getJobState(p.jobId);
    p.sentAt = Date.now();
    if (state === 'unknown') {
      this.send(p).catch((error: unknown) => this.settle(p, error));
      return;
    }
    if (state !== 'completed' && state !== 'failed') return;
    const job = await found.queue.getJob(p.jobId);
    if (!job) return;
    if (state === 'failed') this.settle(p, this.jobError(p, job.failedReason));
    else if (job.returnvalue !== null && job.returnvalue !== undefined) this.settle(p, undefined, job.returnvalue);
  }

  /** After a reconnection: Redis may have restarted empty, so the frames of the jobs in flight go up again. */
  private reupload(): void {
    this.uploads.clear();
    for (const p of this.pending.values()) void this.upload(p.item).catch(() => undefined);
  }

  /** Redis stayed away past the limit: fail everything now and every evaluation after. */
  private fail(error: SamstarError): void {
    this.broken = error;
    // Before the evaluations reject: the runner then sees an interruption, not failed evaluations.
    this.lost.abort(error);
    for (const p of [...this.pending.values()]) this.settle(p, error);
  }
}

/** How a study evaluates on remote workers: `--redis URL` and its companions (train, compare, watch). */
export type RemoteExecution = RedisTarget & Pick<RedisEvaluatorOptions, 'frames' | 'dataRoot' | 'namespace' | 'pollMs' | 'graceMs' | 'noWorkerTimeoutMs' | 'onProgress'>;

/** The RedisEvaluator of a study's segmenter and reward, or undefined without remote execution (the env then evaluates locally). */
export async function remoteEvaluator(remote: RemoteExecution | undefined, segmenter: Segmenter, reward: CompiledReward): Promise<RedisEvaluator | undefined> {
  if (!remote) return undefined;
  const { url, reconnectLimitMs, ...rest } = remote;
  return RedisEvaluator.start({ ...rest, redis: { url, reconnectLimitMs }, knobs: segmenter.knobs, segmenter, reward });
}
