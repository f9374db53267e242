import { isSamstarError, type ErrorCode } from '../util/errors.js';

/**
 * Exit code 2: the command cannot start with what it was given (a model file
 * that is missing, not ONNX, or not an export samstar can run, or a --device
 * this onnxruntime cannot use): like a usage
 * error, nothing was processed.
 */
const EXIT_2: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['MODEL_NOT_FOUND', 'MODEL_INVALID', 'MODEL_LAYOUT_UNKNOWN', 'DEVICE_UNAVAILABLE']);

/** Print an error for a person and return the exit code: 2 for unusable model files, 1 for other known errors, 70 for bugs. */
export function reportError(error: unknown): number {
  if (isSamstarError(error)) {
    process.stderr.write(`samstar: ${error.describe()}\n`);
    return EXIT_2.has(error.code) ? 2 : 1;
  }
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`samstar: unexpected error (please report it):\n${text}\n`);
  return 70;
}
