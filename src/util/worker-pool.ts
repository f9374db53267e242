import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { SamstarError, type ErrorCode } from './errors.js';

/**
 * A small pool of worker threads with key affinity, for work whose state (model
 * sessions, stage caches, frames) should stay in one worker: each key (e.g. a
 * frame hash) is pinned to one worker the first time it is seen, and every later
 * request for that key goes there.
 *
 * Pinning is sticky least-loaded (a new key goes to the worker with the fewest
 * keys, ties to the lowest index), not hash-modulo: with few keys, hashing
 * often puts most of them on one worker (4 frames on 2 workers land 3:1 or 4:0
 * five times in eight). The assignment depends only on the order keys are first
 * seen, so it is deterministic for a deterministic caller.
 *
 * Each worker handles one request at a time (in arrival order); requests to
 * different workers run in parallel.
 *
 * Entries: a compiled `.js` entry runs directly; a `.ts` entry (sources under
 * vitest or tsx) is started through tsx's ESM API inside the worker. (On Node
 * 20, `execArgv: ['--import', 'tsx']` does not reach a worker's entry module:
 * it fails with "Unknown file extension .ts"; registering tsx from a small
 * bootstrap does work.)
 */

interface SerialisedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly hint?: string;
  readonly stack?: string;
}

type ToWorker<Req> = { readonly id: number; readonly request: Req };
type FromWorker<Res, Ready> =
  | { readonly type: 'ready'; readonly ready: Ready }
  | { readonly type: 'failed'; readonly error: SerialisedError }
  | { readonly type: 'result'; readonly id: number; readonly result: Res }
  | { readonly type: 'error'; readonly id: number; readonly error: SerialisedError };

export interface WorkerPoolOptions {
  /** The worker entry module (a file URL), which calls `serveWorker`. */
  readonly entry: URL;
  /** Number of workers (≥ 1). */
  readonly size: number;
  /** Passed to each worker's setup (structured-cloned). */
  readonly workerData?: unknown;
  /** How long to wait for each worker to get ready, ms (default 120 000). */
  readonly startTimeoutMs?: number;
}

interface Slot {
  readonly worker: Worker;
  readonly pending: Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>;
  dead?: Error;
  keys: number;
}

export class WorkerPool<Req, Res, Ready = unknown> {
  private readonly slots: Slot[];
  private readonly pins = new Map<string, number>();
  private nextId = 1;
  private closed = false;

  private constructor(
    slots: Slot[],
    /** What each worker's setup reported, by worker index. */
    readonly ready: readonly Ready[],
  ) {
    this.slots = slots;
  }

  /** Start `size` workers and wait until every one has finished its setup (or one failed). */
  static async start<Req, Res, Ready = unknown>(options: WorkerPoolOptions): Promise<WorkerPool<Req, Res, Ready>> {
    if (!Number.isInteger(options.size) || options.size < 1) {
      throw new SamstarError('ARGUMENT_INVALID', `worker pool size must be a positive integer, got ${options.size}`);
    }
    const workers: Worker[] = [];
    try {
      for (let i = 0; i < options.size; i++) workers.push(spawnWorker(options.entry, { index: i, data: options.workerData }));
      const ready = await Promise.all(workers.map((w, i) => waitReady<Ready>(w, i, options.startTimeoutMs ?? 120_000)));
      const slots: Slot[] = workers.map((worker) => ({ worker, pending: new Map(), keys: 0 }));
      const pool = new WorkerPool<Req, Res, Ready>(slots, ready);
      slots.forEach((slot, i) => pool.listen(slot, i));
      return pool;
    } catch (error) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw error;
    }
  }

  get size(): number {
    return this.slots.length;
  }

  /** The worker a key is pinned to (pinning it now if it is new). */
  pin(key: string): number {
    let index = this.pins.get(key);
    if (index === undefined) {
      index = 0;
      for (let i = 1; i < this.slots.length; i++) if (this.slots[i].keys < this.slots[index].keys) index = i;
      this.slots[index].keys++;
      this.pins.set(key, index);
    }
    return index;
  }

  /** Send a request to one worker; resolves with its answer or rejects with its error (rebuilt). */
  request(index: number, request: Req): Promise<Res> {
    if (this.closed) return Promise.reject(new SamstarError('ARGUMENT_INVALID', 'the worker pool is closed'));
    const slot = this.slots[index];
    if (!slot) return Promise.reject(new SamstarError('ARGUMENT_INVALID', `no worker ${index} (pool of ${this.slots.length})`));
    if (slot.dead) return Promise.reject(slot.dead);
    const id = this.nextId++;
    return new Promise<Res>((resolve, reject) => {
      slot.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      try {
        slot.worker.postMessage({ id, request } satisfies ToWorker<Req>);
      } catch (error) {
        slot.pending.delete(id);
        reject(error as Error);
      }
    });
  }

  /** Terminate every worker; pending requests reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const error = new SamstarError('ARGUMENT_INVALID', 'the worker pool was closed with requests pending');
    for (const slot of this.slots) {
      for (const p of slot.pending.values()) p.reject(error);
      slot.pending.clear();
    }
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private listen(slot: Slot, index: number): void {
    slot.worker.on('message', (message: FromWorker<Res, Ready>) => {
      if (message.type !== 'result' && message.type !== 'error') return;
      const p = slot.pending.get(message.id);
      if (!p) return;
      slot.pending.delete(message.id);
      if (message.type === 'result') p.resolve(message.result);
      else p.reject(rebuildError(message.error));
    });
    const fail = (error: Error): void => {
      if (slot.dead) return;
      slot.dead = error;
      for (const p of slot.pending.values()) p.reject(error);
      slot.pending.clear();
    };
    slot.worker.on('error', (error) => fail(new Error(`worker ${index} crashed: ${error.message}`, { cause: error })));
    slot.worker.on('exit', (code) => {
      if (!this.closed) fail(new Error(`worker ${index} exited (code ${code})`));
    });
  }
}

/**
 * The worker side: run `setup` once with the pool's workerData, report ready
 * (or the setup error), then answer requests one at a time with `handle`.
 * Call it from the worker entry module.
 */
export function serveWorker<Req, Res, Ready>(setup: (data: unknown, index: number) => Promise<{ ready: Ready; handle: (request: Req) => Promise<Res> }>): void {
  if (isMainThread || !parentPort) throw new Error('serveWorker() must run inside a worker thread');
  const port = parentPort;
  const { index, data } = workerData as { index: number; data: unknown };
  setup(data, index).then(
    ({ ready, handle }) => {
      let chain: Promise<void> = Promise.resolve();
      port.on('message', (message: ToWorker<Req>) => {
        chain = chain.then(async () => {
          try {
            const result = await handle(message.request);
            port.postMessage({ type: 'result', id: message.id, result } satisfies FromWorker<Res, Ready>);
          } catch (error) {
            port.postMessage({ type: 'error', id: message.id, error: serialiseError(error) } satisfies FromWorker<Res, Ready>);
          }
        });
      });
      port.postMessage({ type: 'ready', ready } satisfies FromWorker<Res, Ready>);
    },
    (error: unknown) => {
      port.postMessage({ type: 'failed', error: serialiseError(error) } satisfies FromWorker<Res, Ready>);
    },
  );
}

function spawnWorker(entry: URL, data: unknown): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData: data });
  // Sources: register tsx in the worker, then import the entry.
  const api = tsxApiUrl();
  const bootstrap =
    `import(${JSON.stringify(api)})` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })` +
    `.catch((error) => { setImmediate(() => { throw error; }); });`;
  return new Worker(bootstrap, { eval: true, workerData: data });
}

let tsxApi: string | undefined;

function tsxApiUrl(): string {
  if (tsxApi) return tsxApi;
  let manifest: string;
  try {
    manifest = createRequire(import.meta.url).resolve('tsx/package.json');
  } catch (cause) {
    throw new SamstarError('ARGUMENT_INVALID', 'a TypeScript worker entry needs tsx, which is not installed', {
      hint: 'install tsx (a dev dependency) or run the compiled package from dist/',
      cause,
    });
  }
  return (tsxApi = pathToFileURL(join(dirname(manifest), 'dist', 'esm', 'api', 'index.mjs')).href);
}

function waitReady<Ready>(worker: Worker, index: number, timeoutMs: number): Promise<Ready> {
  return new Promise<Ready>((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (message: FromWorker<unknown, Ready>): void => {
      if (message.type === 'ready') {
        cleanup();
        resolve(message.ready);
      } else if (message.type === 'failed') {
        cleanup();
        reject(rebuildError(message.error));
      }
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(new Error(`worker ${index} failed to start: ${error.message}`, { cause: error }));
    };
    const onExit = (code: number): void => {
      cleanup();
      reject(new Error(`worker ${index} exited during setup (code ${code})`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`worker ${index} did not get ready within ${timeoutMs} ms`));
    }, timeoutMs);
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

function serialiseError(error: unknown): SerialisedError {
  if (error instanceof Error) {
    const e = error as Error & { code?: unknown; hint?: unknown };
    return {
      name: e.name,
      message: e.message,
      code: typeof e.code === 'string' ? e.code : undefined,
      hint: typeof e.hint === 'string' ? e.hint : undefined,
      stack: e.stack,
    };
  }
  return { name: 'Error', message: String(error) };
}

function rebuildError(e: SerialisedError): Error {
  if (e.name === 'SamstarError' && e.code) {
    const error = new SamstarError(e.code as ErrorCode, e.message, { hint: e.hint });
    if (e.stack) error.stack = e.stack;
    return error;
  }
  const error = new Error(e.message);
  error.name = e.name;
  if (e.stack) error.stack = e.stack;
  return error;
}
