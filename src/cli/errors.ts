import { isSamstarError } from '../util/errors.js';

/** Print an error for a person and return the exit code: 1 for known errors, 70 for bugs. */
export function reportError(error: unknown): number {
  if (isSamstarError(error)) {
    process.stderr.write(`samstar: ${error.describe()}\n`);
    return 1;
  }
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`samstar: unexpected error (please report it):\n${text}\n`);
  return 70;
}
