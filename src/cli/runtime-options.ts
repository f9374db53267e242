import type { Argv } from 'yargs';
import { DEVICES, type Device } from '../segmenters/sam/devices.js';
import { SamstarError } from '../util/errors.js';

/**
 * `--device` and `--threads`, written once for every command that runs a model
 * (segment, watch, serve, train, compare, demo). Neither has a yargs default:
 * an absent flag leaves the task config's `segmenter.device` / `segmenter.threads`
 * in force, and then samstar's defaults (cpu, 1 thread).
 */
export interface RuntimeArgs {
  device?: Device;
  threads?: number;
}

export function runtimeOptions<T>(y: Argv<T>): Argv<T & RuntimeArgs> {
  return y
    .option('device', {
      type: 'string',
      choices: DEVICES,
      describe: 'where onnxruntime runs the model (default cpu; cuda/tensorrt need onnxruntime-node installed with its CUDA binaries, coreml is macOS, dml Windows)',
    })
    .option('threads', { type: 'number', describe: 'onnxruntime intra-op threads per model (default 1)' }) as Argv<T & RuntimeArgs>;
}

/** The flags checked, as the options of loadSegmenter / loadSamSegmenter; absent flags stay absent. */
export function runtimeChoice(args: RuntimeArgs): { device?: Device; intraOpThreads?: number } {
  if (args.threads !== undefined && (!Number.isInteger(args.threads) || args.threads < 1 || args.threads > 256)) {
    throw new SamstarError('ARGUMENT_INVALID', `--threads must be a whole number from 1 to 256 (got ${args.threads})`, { hint: 'onnxruntime intra-op threads; about the number of physical cores is fastest' });
  }
  return { ...(args.device !== undefined ? { device: args.device } : {}), ...(args.threads !== undefined ? { intraOpThreads: args.threads } : {}) };
}

/** A task with the flags laid over its config's `segmenter.device` / `segmenter.threads` (neither is part of a study's identity). */
export function withRuntime<T extends { readonly segmenter: { readonly device?: Device; readonly threads?: number } }>(task: T, args: RuntimeArgs): T {
  const { device, intraOpThreads } = runtimeChoice(args);
  if (device === undefined && intraOpThreads === undefined) return task;
  return { ...task, segmenter: { ...task.segmenter, ...(device !== undefined ? { device } : {}), ...(intraOpThreads !== undefined ? { threads: intraOpThreads } : {}) } };
}
