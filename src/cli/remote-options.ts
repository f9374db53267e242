import type { Argv } from 'yargs';
import type { DistributedProgress, RemoteExecution } from '../distributed/evaluator.js';

/**
 * `--redis URL` (with `--send-frames`, `--data-root`), written once for the
 * commands whose evaluations can run on `samstar worker`s: train, compare,
 * watch. The flags win over a task config's `execution:` block.
 */
export interface RemoteArgs {
  redis?: string;
  'send-frames'?: 'bytes' | 'path';
  'data-root'?: string;
}

export function remoteOptions<T>(y: Argv<T>): Argv<T & RemoteArgs> {
  return y
    .option('redis', { type: 'string', describe: 'evaluate on samstar workers through Redis: redis://[user:password@]host[:port][/db] (rediss:// for TLS)' })
    .option('send-frames', { type: 'string', choices: ['bytes', 'path'], describe: 'with --redis: frames reach workers as bytes in Redis (default) or by their path under --data-root' })
    .option('data-root', { type: 'string', describe: 'with --redis: the folder job paths are relative to (default: the working directory); workers read them under their own --data-root' }) as Argv<
    T & RemoteArgs
  >;
}

/** The remote execution the flags (else the task's `execution:`) ask for, reporting progress on stderr; undefined: evaluate locally. */
export function remoteExecution(args: RemoteArgs, execution?: { redis: string; sendFrames?: 'bytes' | 'path'; dataRoot?: string }): RemoteExecution | undefined {
  const url = args.redis ?? execution?.redis;
  if (!url) return undefined;
  const sendFrames = args['send-frames'] ?? execution?.sendFrames;
  const dataRoot = args['data-root'] ?? execution?.dataRoot;
  return { url, ...(sendFrames ? { frames: sendFrames } : {}), ...(dataRoot ? { dataRoot } : {}), onProgress: progressLine() };
}

/** One stderr line when the number of live workers changes, and at most every 5 s otherwise. */
function progressLine(): (p: DistributedProgress) => void {
  let workers = -1;
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (p.workers === workers && now - last < 5000) return;
    workers = p.workers;
    last = now;
    process.stderr.write(`\nsamstar: ${p.workers} live worker(s) · jobs queued ${p.queued}, running ${p.running}, done ${p.done}, failed ${p.failed}, retried ${p.retried}\n`);
  };
}
