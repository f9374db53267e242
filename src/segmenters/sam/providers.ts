import * as ort from 'onnxruntime-node';
import { SamstarError } from '../../util/errors.js';
import type { Device } from './devices.js';

/**
 * Where onnxruntime runs a model: `--device` in the CLI, `segmenter.device` in
 * task configs. Each device maps to onnxruntime execution providers in order of
 * preference; CPU always comes last, so nodes a GPU provider does not implement
 * still run.
 *
 * Only the CPU path is exercised by samstar's tests: the machines they run on
 * have no GPU, and onnxruntime-node is installed there without its CUDA
 * binaries. The other devices are passed to onnxruntime as documented by it.
 */

const PROVIDERS: Record<Device, readonly string[]> = {
  cpu: ['cpu'],
  cuda: ['cuda', 'cpu'],
  tensorrt: ['tensorrt', 'cuda', 'cpu'],
  coreml: ['coreml', 'cpu'],
  dml: ['dml', 'cpu'],
};

/** How to get each device's provider into onnxruntime-node. */
const INSTALL_HINT: Record<Device, string> = {
  cpu: 'the CPU provider is part of every onnxruntime-node build',
  cuda:
    'onnxruntime-node ships CUDA on Linux x64 only, and downloads its CUDA binaries at install time (the .npmrc of a samstar checkout skips that download): ' +
    'on a machine with network access, an NVIDIA driver, CUDA 12 and cuDNN 9, run `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`',
  tensorrt:
    'TensorRT needs the CUDA binaries of onnxruntime-node (`ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`, Linux x64, network access) ' +
    'plus TensorRT 10 libraries on the library path',
  coreml: 'CoreML is built into onnxruntime-node on macOS only',
  dml: 'DirectML is built into onnxruntime-node on Windows only',
};

/** The providers this onnxruntime-node build lists, as "name" or "name (not installed)" when its binaries are downloaded separately. */
export function availableProviders(): string[] {
  return ort.listSupportedBackends().map((b) => (b.bundled ? b.name : `${b.name} (needs binaries downloaded at install)`));
}

function unavailable(device: Device, path: string, why: string, cause?: unknown): SamstarError {
  return new SamstarError(
    'DEVICE_UNAVAILABLE',
    `device "${device}" is not available for ${path}: ${why} (this onnxruntime-node ${ort.env.versions.common} on ${process.platform}/${process.arch} lists: ${availableProviders().join(', ')})`,
    { hint: `${INSTALL_HINT[device]}; or use --device cpu`, cause },
  );
}

/**
 * Session options for `device`, refused before any session is made when this
 * build of onnxruntime-node does not list the provider at all (CoreML on
 * Linux, DirectML off Windows).
 */
export function providerOptions(device: Device, path: string): Pick<ort.InferenceSession.SessionOptions, 'executionProviders'> {
  const listed = new Set(ort.listSupportedBackends().map((b) => b.name));
  if (!listed.has(PROVIDERS[device][0])) throw unavailable(device, path, `this build has no ${device} execution provider`);
  return { executionProviders: [...PROVIDERS[device]] };
}

/**
 * onnxruntime's failure to start a listed provider (e.g. "Failed to load shared
 * library" when the CUDA binaries were never downloaded) as a clear error, or
 * null when the failure is not about the provider.
 */
export function providerFailure(device: Device, path: string, cause: unknown): SamstarError | null {
  if (device === 'cpu') return null;
  const message = cause instanceof Error ? cause.message : String(cause);
  if (!/ExecutionProvider|shared library|backend not found|provider/i.test(message)) return null;
  return unavailable(device, path, `onnxruntime could not start its ${PROVIDERS[device][0]} provider (${message.split('\n')[0]})`, cause);
}
