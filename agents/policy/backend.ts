/**
 * The one place that chooses the tfjs backend for policy training.
 *
 * Order, unless SAMSTAR_TF_BACKEND (= tensorflow | wasm | cpu) forces one:
 *  1. `@tensorflow/tfjs-node` ("tensorflow" backend), when the user has it
 *     installed; it is never a dependency (its install downloads a binary).
 *  2. `@tensorflow/tfjs-backend-wasm` (XNNPACK, SIMD; ~2–3× the cpu backend on
 *     64×64 MLPs). In Node the .wasm files are read from the package folder.
 *  3. The pure-JS cpu backend.
 *
 * tfjs costs about a second to import, so it is imported lazily, on the first
 * `loadTf()` (the first learn()); acting and deploying a policy never import it
 * (see gaussian-policy.ts: the forward pass there is plain JS).
 */
import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';
import type * as TfModule from '@tensorflow/tfjs';
import { SamstarError } from '../../src/util/errors.js';

export type Tf = typeof TfModule;
export type TfBackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface TfRuntime {
  readonly tf: Tf;
  readonly backend: TfBackendName;
  /** Why a preferred backend was passed over (empty when the first choice worked). */
  readonly notes: readonly string[];
}

const BACKENDS: readonly TfBackendName[] = ['tensorflow', 'wasm', 'cpu'];
let runtime: Promise<TfRuntime> | undefined;

/** The tfjs module (CJS in Node): use module.exports when the named exports were not all detected. */
function unwrap(mod: unknown): Tf {
  const m = mod as { default?: unknown; tensor?: unknown };
  if (typeof m.tensor === 'function') return m as unknown as Tf;
  if (m.default && typeof (m.default as { tensor?: unknown }).tensor === 'function') return m.default as Tf;
  throw new Error('not a tfjs module');
}

function message(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0] : String(e);
}

async function tryTensorflow(): Promise<Tf> {
  // A variable specifier: TypeScript and bundlers must not resolve this optional package.
  const name = '@tensorflow/tfjs-node';
  const tf = unwrap(await import(name));
  if (!(await tf.setBackend('tensorflow'))) throw new Error('setBackend("tensorflow") failed');
  await tf.ready();
  return tf;
}

async function tryWasm(tf: Tf): Promise<void> {
  // The Emscripten module adds process-wide 'uncaughtException'/'unhandledRejection'
  // handlers that only rethrow, from inside its one-line minified source, so any
  // later crash anywhere in the CLI would print ~100 kB of that line. Node's
  // default handling is the same without the noise: take them off again.
  type Listener = (...args: unknown[]) => void;
  const events = ['uncaughtException', 'unhandledRejection'];
  const listeners = (e: string) => process.listeners(e as 'uncaughtException') as unknown as Listener[];
  const before = new Map(events.map((e) => [e, new Set(listeners(e))]));
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const main = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(dirname(main) + sep);
    if (!(await tf.setBackend('wasm'))) throw new Error('setBackend("wasm") failed');
    await tf.ready();
  } finally {
    for (const e of events) {
      for (const listener of listeners(e)) {
        if (!before.get(e)!.has(listener)) process.off(e, listener);
      }
    }
  }
}

async function tryCpu(tf: Tf): Promise<void> {
  // The cpu backend greets Node users with an "install tfjs-node" banner on first use; we already know.
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).includes('looks like you are running TensorFlow.js in Node.js')) warn(...args);
  };
  try {
    if (!(await tf.setBackend('cpu'))) throw new Error('setBackend("cpu") failed');
    await tf.ready();
    tf.tidy(() => tf.scalar(0).dataSync());
  } finally {
    console.warn = warn;
  }
}

async function select(forced: TfBackendName | undefined): Promise<TfRuntime> {
  const notes: string[] = [];
  const order = forced ? [forced] : BACKENDS;
  if (order.includes('tensorflow')) {
    try {
      return { tf: await tryTensorflow(), backend: 'tensorflow', notes };
    } catch (e) {
      notes.push(`tensorflow (tfjs-node): ${message(e)}`);
    }
  }
  const tf = unwrap(await import('@tensorflow/tfjs'));
  if (order.includes('wasm')) {
    try {
      await tryWasm(tf);
      return { tf, backend: 'wasm', notes };
    } catch (e) {
      notes.push(`wasm: ${message(e)}`);
    }
  }
  if (order.includes('cpu')) {
    await tryCpu(tf);
    return { tf, backend: 'cpu', notes };
  }
  throw new SamstarError('ARGUMENT_INVALID', `tfjs backend "${forced}" is not available (${notes.join('; ')})`, {
    hint: 'unset SAMSTAR_TF_BACKEND to fall back automatically, or install the backend (tfjs-node: npm i @tensorflow/tfjs-node)',
  });
}

function forcedBackend(): TfBackendName | undefined {
  const value = process.env.SAMSTAR_TF_BACKEND?.trim();
  if (!value) return undefined;
  if ((BACKENDS as readonly string[]).includes(value)) return value as TfBackendName;
  throw new SamstarError('ARGUMENT_INVALID', `SAMSTAR_TF_BACKEND="${value}" is not a tfjs backend`, { hint: `use one of ${BACKENDS.join(', ')}` });
}

/**
 * tfjs with a backend ready (memoised: the choice is made once per process,
 * since variables live on the backend that created them).
 */
export function loadTf(): Promise<TfRuntime> {
  if (!runtime) {
    runtime = select(forcedBackend());
    // A failed selection (e.g. a forced backend missing) may be retried after fixing the environment.
    runtime.catch(() => {
      runtime = undefined;
    });
  }
  return runtime;
}

/**
 * Switch the running tfjs to another registered backend (benchmarks and
 * comparisons only: training picks its kernels by the backend loadTf() chose).
 * Quiet on the cpu backend's "install tfjs-node" banner. False when unavailable.
 */
export async function switchBackend(name: TfBackendName): Promise<boolean> {
  const { tf } = await loadTf();
  try {
    if (name === 'cpu') await tryCpu(tf);
    else if (!(await tf.setBackend(name))) return false;
    await tf.ready();
    return true;
  } catch {
    return false;
  }
}
