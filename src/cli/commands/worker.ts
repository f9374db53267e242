import type { CommandModule } from 'yargs';
import { runtimeChoice, runtimeOptions, type RuntimeArgs } from '../runtime-options.js';
import { SamstarError } from '../../util/errors.js';

interface WorkerArgs extends RuntimeArgs {
  redis: string;
  'data-root': string;
  'frame-cache-mb'?: number;
  'embedding-cache-mb'?: number;
  'proposal-cache-mb'?: number;
  'heartbeat-ms': number;
  'reconnect-limit': number;
}

/** `samstar worker --redis URL`: evaluate frames for studies run elsewhere (train/compare/watch --redis). */
export const command: CommandModule<object, WorkerArgs> = {
  command: 'worker',
  describe: 'evaluate frames for studies on other machines: take jobs from Redis (train/compare/watch --redis URL) until Ctrl-C',
  builder: (y) =>
    runtimeOptions(y)
      .option('redis', { type: 'string', demandOption: true, describe: 'Redis URL: redis://[user:password@]host[:port][/db], rediss://… for TLS' })
      .option('data-root', { type: 'string', default: '.', describe: 'jobs may read files (frames sent by path, model files) only under this folder' })
      .option('frame-cache-mb', { type: 'number', describe: 'frames kept in memory (MiB, default 1024)' })
      .option('embedding-cache-mb', { type: 'number', describe: "the model's embedding cache (MiB; default: the segmenter's)" })
      .option('proposal-cache-mb', { type: 'number', describe: "the model's proposal cache (MiB; default: the segmenter's)" })
      .option('heartbeat-ms', { type: 'number', default: 1000, describe: 'heartbeat period; a worker silent for 5 heartbeats counts as gone and its jobs move on' })
      .option('reconnect-limit', { type: 'number', default: 60, describe: 'seconds to keep reconnecting to a lost Redis before stopping with an error' })
      .example('$0 worker --redis redis://:secret@10.0.0.5:6379 --threads 8', 'serve studies run on another machine')
      .example('$0 worker --redis rediss://user:secret@queue.lab:6380 --data-root /data/shared', 'TLS; frames sent by path are read under /data/shared') as never,
  handler: async (args) => {
    const { existsSync, statSync } = await import('node:fs');
    const { resolve } = await import('node:path');
    const { startWorker } = await import('../../distributed/worker.js');
    const mib = (name: 'frame-cache-mb' | 'embedding-cache-mb' | 'proposal-cache-mb'): number | undefined => {
      const v = args[name];
      if (v === undefined) return undefined;
      if (!(Number.isFinite(v) && v > 0)) throw new SamstarError('ARGUMENT_INVALID', `--${name} must be a number of MiB > 0 (got ${v})`);
      return Math.round(v * 2 ** 20);
    };
    if (!(Number.isFinite(args['heartbeat-ms']) && args['heartbeat-ms'] >= 50)) throw new SamstarError('ARGUMENT_INVALID', `--heartbeat-ms must be ≥ 50 (got ${args['heartbeat-ms']})`);
    if (!(Number.isFinite(args['reconnect-limit']) && args['reconnect-limit'] > 0)) throw new SamstarError('ARGUMENT_INVALID', `--reconnect-limit must be a number of seconds > 0 (got ${args['reconnect-limit']})`);
    const dataRoot = resolve(args['data-root']);
    if (!existsSync(dataRoot) || !statSync(dataRoot).isDirectory()) {
      throw new SamstarError('ARGUMENT_INVALID', `--data-root ${dataRoot} is not a folder`, { hint: 'give the folder under which jobs may read frames and model files' });
    }
    const { device, intraOpThreads } = runtimeChoice(args);
    const worker = await startWorker({
      redis: { url: args.redis, reconnectLimitMs: args['reconnect-limit'] * 1000 },
      dataRoot,
      threads: intraOpThreads,
      device,
      frameCacheBytes: mib('frame-cache-mb'),
      embeddingCacheBytes: mib('embedding-cache-mb'),
      proposalCacheBytes: mib('proposal-cache-mb'),
      heartbeatMs: args['heartbeat-ms'],
      log: (line) => process.stderr.write(`${line}\n`),
    });
    let interrupts = 0;
    const onSignal = (): void => {
      interrupts++;
      if (interrupts === 1) {
        process.stderr.write('\nsamstar worker: finishing the job in flight, then leaving (Ctrl-C again to quit at once; the job then moves to another worker)\n');
        void worker.stop();
      } else {
        process.exit(130);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      await worker.finished;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      // Left: a Redis client still reconnecting must not keep the process alive.
      setTimeout(() => process.exit(), 2000).unref();
    }
  },
};
