import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { UnrecoverableError, Worker as BullWorker, type Job } from 'bullmq';
import { Redis, type RedisOptions as IoRedisOptions } from 'ioredis';
import { evaluateFrame, type EvalFrame } from '../../envs/evaluator.js';
import { compileReward, parseRewardConfig, type CompiledReward } from '../../rewards/index.js';
import type { Frame } from '../image/frame.js';
import { loadFrame } from '../image/load.js';
import type { LabelImage } from '../masks/types.js';
import { loadSegmenter } from '../segmenters/registry.js';
import type { Device } from '../segmenters/sam/devices.js';
import { bundledModelFiles } from '../segmenters/sam/bundled-models.js';
import type { Segmenter } from '../segmenters/types.js';
import { SamstarError } from '../util/errors.js';
import { LruCache } from '../util/lru.js';
import { bounded, describeRedisUrl, redisOptions, type RedisTarget } from './connection.js';
import { decodeFrame, decodeTruth, pathInside } from './frames.js';
import { DEFAULT_NAMESPACE, keys, parseJob, queueOf, type EvaluateJob, type JobResult, type SegmenterWire, type WorkerInfo } from './protocol.js';

/**
 * `samstar worker`: a long-running process that takes frame-evaluation jobs
 * from its own BullMQ queue, segments with the job's knobs through its own
 * cached segmenter (one per segmenter/model the jobs name, so the stage caches
 * carry over between jobs exactly as in-process) and scores with the job's
 * reward, through the same `evaluateFrame` as the in-process evaluator.
 *
 * Entry point: `startWorker`. It announces itself (`ns:workers`) and renews a
 * heartbeat key that expires after `leaseMs`; a coordinator that sees the key
 * gone reassigns the worker's jobs. `stop()` finishes the job in flight, then
 * leaves. Every job is validated (protocol.ts); a malformed one, or one naming
 * a path outside `dataRoot`, fails at once without retry (reported to the
 * coordinator as the job's failure) and the worker goes on serving.
 */
export interface WorkerOptions {
  readonly redis: RedisTarget;
  /** Files named by jobs (frames, model files) must lie under this folder (default: the working directory). */
  readonly dataRoot?: string;
  readonly threads?: number;
  readonly device?: Device;
  readonly embeddingCacheBytes?: number;
  readonly proposalCacheBytes?: number;
  /** Byte budget of the frames the worker keeps (default 1 GiB). */
  readonly frameCacheBytes?: number;
  /** Heartbeat period (default 1 s) and the lease after which a silent worker counts as gone (default 5 s). */
  readonly heartbeatMs?: number;
  readonly leaseMs?: number;
  readonly namespace?: string;
  readonly id?: string;
  /** One line per event (announce, rejected job, reconnects, leave); default: none. */
  readonly log?: (line: string) => void;
}

export interface WorkerHandle {
  readonly id: string;
  /** Counters so far. */
  info(): WorkerInfo;
  /** Finish the job in flight, then leave (idempotent). */
  stop(): Promise<void>;
  /** Settles when the worker has left: resolves after stop(), rejects when Redis stayed away past the limit. */
  readonly finished: Promise<void>;
}

interface StoredFrame {
  readonly frame: Frame;
  readonly truth?: LabelImage;
}

const MAX_SEGMENTERS = 2;

export async function startWorker(options: WorkerOptions): Promise<WorkerHandle> {
  const ns = options.namespace ?? DEFAULT_NAMESPACE;
  const id = options.id ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const heartbeatMs = options.heartbeatMs ?? 1000;
  const leaseMs = options.leaseMs ?? 5 * heartbeatMs;
  const dataRoot = resolve(options.dataRoot ?? '.');
  const log = options.log ?? (() => undefined);
  let fatal: ((error: SamstarError) => void) | undefined;
  let fatalError: SamstarError | undefined;
  const connection = redisOptions(options.redis, (error) => {
    fatalError = error;
    fatal?.(error);
  });
  const redis = new Redis({ ...connection, lazyConnect: true } as IoRedisOptions);
  redis.on('error', () => undefined); // reported through the reconnect policy, not per failed try
  await redis.connect().catch((error: unknown) => {
    throw new SamstarError('IO_ERROR', `cannot reach Redis at ${describeRedisUrl(options.redis.url)}: ${(error as Error).message}`, { hint: 'start redis-server, or check the URL (host, port, password, rediss:// for TLS)' });
  });

  const started = new Date().toISOString();
  const counters = { done: 0, failed: 0, rejected: 0, busy: false };
  const info = (): WorkerInfo => ({ id, host: hostname(), pid: process.pid, started, ...(options.threads ? { threads: options.threads } : {}), ...counters });
  const segmenters = new Map<string, Promise<Segmenter>>();
  const rewards = new Map<string, CompiledReward>();
  const frames = new LruCache<StoredFrame>(options.frameCacheBytes ?? 2 ** 30, (s) => s.frame.pixels.byteLength + (s.frame.grey !== s.frame.pixels ? s.frame.grey.byteLength : 0) + (s.truth?.data.byteLength ?? 0));

  const segmenterFor = async (wire: SegmenterWire): Promise<Segmenter> => {
    const key = JSON.stringify(wire);
    let found = segmenters.get(key);
    if (!found) {
      found = buildSegmenter(wire, dataRoot, options);
      segmenters.set(key, found);
      found.catch(() => segmenters.delete(key));
      // Keep the newest few: a worker serving two studies holds both; an old one is released.
      while (segmenters.size > MAX_SEGMENTERS) {
        const [oldKey, old] = segmenters.entries().next().value as [string, Promise<Segmenter>];
        segmenters.delete(oldKey);
        void old.then((s) => s.dispose()).catch(() => undefined);
      }
    }
    return found;
  };

  const rewardFor = (config: Record<string, unknown>): CompiledReward => {
    const key = JSON.stringify(config);
    let found = rewards.get(key);
    if (!found) {
      found = compileReward(parseRewardConfig(config, 'job reward'));
      if (rewards.size > 16) rewards.clear();
      rewards.set(key, found);
    }
    return found;
  };

  const frameFor = async (job: EvaluateJob): Promise<{ item: EvalFrame; cached: boolean }> => {
    // A path is checked against the data root even when the frame is cached: the check is the point.
    const path = 'path' in job.frame ? await pathInside(dataRoot, job.frame.path) : undefined;
    const key = `${job.hash}|${job.truth ?? ''}`;
    const hit = frames.get(key);
    if (hit) return { item: { id: job.id, frame: hit.frame, truth: hit.truth }, cached: true };
    let frame: Frame;
    if (!('bytes' in job.frame)) {
      frame = await loadFrame(path!);
    } else {
      const blob = await redis.getBuffer(keys.frame(ns, job.frame.bytes));
      if (!blob) throw new SamstarError('IO_ERROR', `frame ${job.id}: its bytes are not in Redis (expired, or Redis restarted)`, { hint: 'the coordinator uploads them again when it reconnects; the job is retried' });
      frame = decodeFrame(blob, `frame ${job.id}`);
    }
    if (frame.hash !== job.hash) {
      throw new UnrecoverableError(`frame ${job.id}: the worker's copy differs from the coordinator's (content hash ${frame.hash.slice(0, 12)}… ≠ ${job.hash.slice(0, 12)}…); the same path holds another image on this machine`);
    }
    let truth: LabelImage | undefined;
    if (job.truth) {
      const blob = await redis.getBuffer(keys.truth(ns, job.truth));
      if (!blob) throw new SamstarError('IO_ERROR', `frame ${job.id}: its label image is not in Redis (expired, or Redis restarted)`);
      truth = decodeTruth(blob, `labels of ${job.id}`);
    }
    frames.set(key, { frame, truth });
    return { item: { id: job.id, frame, truth }, cached: false };
  };

  /** Validation failures are the job's fault: fail it at once (no retry) and keep serving. */
  const reject = (job: Job, error: unknown): never => {
    counters.rejected++;
    const message = error instanceof SamstarError ? error.describe() : error instanceof Error ? error.message : String(error);
    log(`samstar worker ${id}: rejected job ${job.id}: ${message.split('\n').join(' | ')}`);
    throw new UnrecoverableError(message);
  };

  const handle = async (job: Job): Promise<JobResult> => {
    counters.busy = true;
    try {
      let parsed: EvaluateJob;
      let segmenter: Segmenter;
      let reward: CompiledReward | undefined;
      let item: EvalFrame;
      let cached: boolean;
      try {
        parsed = parseJob(job.data);
        reward = parsed.reward ? rewardFor(parsed.reward) : undefined;
        segmenter = await segmenterFor(parsed.segmenter);
        segmenter.knobs.resolve(parsed.knobs, `job ${job.id} knobs`);
        ({ item, cached } = await frameFor(parsed));
      } catch (error) {
        if (error instanceof SamstarError && error.code === 'IO_ERROR') throw error; // transient (Redis): retried
        return reject(job, error);
      }
      const evaluation = reward ? await evaluateFrame(segmenter, reward, item, parsed.knobs) : undefined;
      // After an evaluation the segmenter's result cache answers this call without recomputing.
      const segmentation = parsed.records ? await segmenter.segment(item.frame, parsed.knobs) : undefined;
      counters.done++;
      return {
        ...(evaluation ? { evaluation: { ...evaluation } } : {}),
        worker: id,
        cached,
        ...(segmentation ? { segmentation: JSON.parse(JSON.stringify(segmentation)) as JobResult['segmentation'] } : {}),
      };
    } catch (error) {
      counters.failed++;
      throw error;
    } finally {
      counters.busy = false;
    }
  };

  const bull = new BullWorker(queueOf(id), handle, { connection, prefix: ns, concurrency: 1, autorun: false });
  let connectionLost = false;
  bull.on('error', (error) => {
    if (!connectionLost) log(`samstar worker ${id}: Redis connection problem (${error.message}); reconnecting`);
    connectionLost = true;
  });
  bull.on('ready', () => {
    if (connectionLost) log(`samstar worker ${id}: reconnected to Redis`);
    connectionLost = false;
  });
  bull.on('failed', (job, error) => {
    if (job && !(error instanceof UnrecoverableError)) log(`samstar worker ${id}: job ${job.id} failed: ${error.message.split('\n')[0]}`);
  });

  const beat = async (): Promise<void> => {
    await redis.multi().set(keys.worker(ns, id), JSON.stringify(info()), 'PX', leaseMs).sadd(keys.workers(ns), id).exec();
  };
  void bull.run().catch(() => undefined);
  await bull.waitUntilReady();
  await beat();
  const timer = setInterval(() => void beat().catch(() => undefined), heartbeatMs);
  log(`samstar worker ${id}: serving ${describeRedisUrl(options.redis.url)} (data root ${dataRoot})`);

  let stopping: Promise<void> | undefined;
  let settle!: { resolve: () => void; reject: (e: unknown) => void };
  const finished = new Promise<void>((res, rej) => (settle = { resolve: res, reject: rej }));
  finished.catch(() => undefined);

  const release = async (): Promise<void> => {
    for (const s of segmenters.values()) await s.then((x) => x.dispose()).catch(() => undefined);
    segmenters.clear();
    frames.clear();
  };

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      clearInterval(timer);
      // Wait for the job in flight, however long; but a worker with nothing in flight does not wait on
      // a connection that is still coming back (BullMQ's close can hang then): it closes hard.
      const graceful = bull.close();
      while (!(await bounded(graceful, 1000))) {
        if (!counters.busy) {
          await bounded(bull.close(true));
          break;
        }
      }
      await bounded(redis.multi().del(keys.worker(ns, id)).srem(keys.workers(ns), id).exec());
      redis.disconnect();
      await release();
      log(`samstar worker ${id}: left after ${counters.done} job(s)`);
      settle.resolve();
    })();
    return stopping;
  };

  fatal = (error) => {
    clearInterval(timer);
    void bull.close(true).catch(() => undefined);
    redis.disconnect();
    void release();
    settle.reject(error);
  };
  if (fatalError) fatal(fatalError);

  return { id, info, stop, finished };
}

/** A segmenter from a job's wire spec: model files resolve under the data root, bundled models are this install's. */
async function buildSegmenter(wire: SegmenterWire, dataRoot: string, options: WorkerOptions): Promise<Segmenter> {
  let files: { encoder: string; decoder: string } | undefined;
  if (wire.model && 'bundled' in wire.model) files = bundledModelFiles(wire.model.bundled);
  else if (wire.model) files = { encoder: await pathInside(dataRoot, wire.model.encoder), decoder: await pathInside(dataRoot, wire.model.decoder) };
  return loadSegmenter(wire.name, {
    ...(files ?? {}),
    ...(options.threads !== undefined ? { intraOpThreads: options.threads } : {}),
    ...(options.device !== undefined ? { device: options.device } : {}),
    ...(options.embeddingCacheBytes !== undefined ? { embeddingCacheBytes: options.embeddingCacheBytes } : {}),
    ...(options.proposalCacheBytes !== undefined ? { proposalCacheBytes: options.proposalCacheBytes } : {}),
  });
}
