import { ServeError } from './errors.js';

/** Why a queued job never ran. */
export type DropReason = 'replaced' | 'cancelled' | 'closed' | 'shutdown';

/** One frame's work, run by the scheduler when its turn comes. */
export interface Job {
  /** Runs the work and delivers its answer; must not throw (errors are answers too). */
  run(): Promise<void>;
  /** Called instead of `run` when the job leaves the queue unrun. */
  drop(reason: DropReason): void;
  /** Skip the job without running it (e.g. the HTTP client went away). */
  cancelled?(): boolean;
}

export interface SchedulerOptions {
  /** Requests that may wait while one is processed; the next gets 503 (default 4). */
  readonly requestQueue: number;
  /** Unprocessed frames kept per stream; on arrival of one more the oldest is dropped (default 1). */
  readonly streamBuffer: number;
}

interface Queued {
  readonly job: Job;
  /** The stream it came from (identity), or null for a request. */
  readonly stream: object | null;
}

/**
 * One segmentation at a time (the model is CPU-bound), in arrival order, across
 * requests and streams. Requests wait in a bounded queue and are refused (503
 * with Retry-After) when it is full; each stream keeps at most `streamBuffer`
 * unprocessed frames and drops its oldest one when a newer arrives (latest frame
 * wins), so a fast camera never makes the server fall behind.
 *
 * `pause()` / `resume()` hold processing (the running job finishes): tests use
 * them to build a queue deterministically.
 */
export class Scheduler {
  private readonly queue: Queued[] = [];
  private readonly perStream = new Map<object, number>();
  private requests = 0;
  private running = false;
  private pumping = false;
  private paused = false;
  private idleWaiters: (() => void)[] = [];
  /** Moving average of job durations (ms), for Retry-After. */
  private serviceMs = 0;
  /** Jobs dropped so far, by reason. */
  readonly droppedCount: Record<DropReason, number> = { replaced: 0, cancelled: 0, closed: 0, shutdown: 0 };

  constructor(readonly options: SchedulerOptions) {
    if (!Number.isInteger(options.requestQueue) || options.requestQueue < 0) {
      throw new ServeError(500, 'ARGUMENT_INVALID', `request queue length must be an integer ≥ 0, got ${options.requestQueue}`);
    }
    if (!Number.isInteger(options.streamBuffer) || options.streamBuffer < 1) {
      throw new ServeError(500, 'ARGUMENT_INVALID', `stream buffer must be an integer ≥ 1, got ${options.streamBuffer}`);
    }
  }

  /** Frames waiting (not counting the one being processed). */
  get depth(): number {
    return this.queue.length;
  }

  get busy(): boolean {
    return this.running;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Seconds a refused client should wait before trying again. */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(((this.requests + 1) * Math.max(this.serviceMs, 1)) / 1000));
  }

  /** Throw 503 QUEUE_FULL (with Retry-After) when the request queue is full. */
  checkRoom(): void {
    if (this.requests >= this.options.requestQueue && (this.running || this.requests > 0)) {
      throw new ServeError(
        503,
        'QUEUE_FULL',
        `the server is busy: ${this.requests} request(s) already waiting (limit ${this.options.requestQueue})`,
        'retry after the number of seconds in Retry-After, or use the /v1/stream WebSocket, which drops stale frames instead of refusing',
        this.retryAfterSeconds(),
      );
    }
  }

  /** Queue a request, or throw 503 QUEUE_FULL (with Retry-After) when the request queue is full. */
  submitRequest(job: Job): void {
    this.checkRoom();
    this.requests++;
    this.queue.push({ job, stream: null });
    this.pump();
  }

  /**
   * Queue a stream frame. When the stream already has `streamBuffer` frames waiting,
   * its oldest waiting frame is dropped (its `drop('replaced')` is called).
   */
  submitStream(stream: object, job: Job): void {
    const waiting = this.perStream.get(stream) ?? 0;
    if (waiting >= this.options.streamBuffer) {
      const index = this.queue.findIndex((q) => q.stream === stream);
      const [old] = this.queue.splice(index, 1);
      this.perStream.set(stream, waiting - 1);
      this.dropJob(old.job, 'replaced');
    }
    this.perStream.set(stream, (this.perStream.get(stream) ?? 0) + 1);
    this.queue.push({ job, stream });
    this.pump();
  }

  /** Drop every waiting frame of a stream (it closed). */
  closeStream(stream: object): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (this.queue[i].stream === stream) this.dropJob(this.queue.splice(i, 1)[0].job, 'closed');
    }
    this.perStream.delete(stream);
    this.notifyIdle();
  }

  /** Drop everything waiting (shutdown); the running job finishes. */
  dropAll(reason: DropReason = 'shutdown'): void {
    const all = this.queue.splice(0);
    this.perStream.clear();
    this.requests = 0;
    for (const q of all) this.dropJob(q.job, reason);
    this.notifyIdle();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.pump();
  }

  /** Resolves when nothing is queued or running (or, while paused, when nothing is running). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return !this.running && (this.paused || this.queue.length === 0);
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters.splice(0);
    for (const w of waiters) w();
  }

  private dropJob(job: Job, reason: DropReason): void {
    this.droppedCount[reason]++;
    try {
      job.drop(reason);
    } catch {
      // a drop notice must never stop the queue
    }
  }

  private take(): Queued {
    const next = this.queue.shift()!;
    if (next.stream) {
      const left = (this.perStream.get(next.stream) ?? 1) - 1;
      if (left > 0) this.perStream.set(next.stream, left);
      else this.perStream.delete(next.stream);
    } else {
      this.requests--;
    }
    return next;
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    try {
      while (!this.paused && this.queue.length > 0) {
        const { job } = this.take();
        if (job.cancelled?.()) {
          this.dropJob(job, 'cancelled');
          continue;
        }
        this.running = true;
        const started = performance.now();
        try {
          await job.run();
        } catch {
          // Job.run delivers its own errors; nothing may stop the queue.
        }
        const ms = performance.now() - started;
        this.serviceMs = this.serviceMs === 0 ? ms : 0.8 * this.serviceMs + 0.2 * ms;
        this.running = false;
        this.notifyIdle();
        // Let frames that arrived meanwhile be read before choosing the next (latest frame wins).
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.pumping = false;
      this.running = false;
      this.notifyIdle();
    }
  }
}
