/**
 * One error root for the whole project. `code` is stable (scripts and the CLI
 * exit-code mapping rely on it), `message` says what was wrong and where
 * (file, field, knob, value), `hint` says what to do about it.
 */
export type ErrorCode =
  | 'IMAGE_NOT_FOUND'
  | 'IMAGE_UNREADABLE'
  | 'IMAGE_UNSUPPORTED'
  | 'MODEL_NOT_FOUND'
  | 'MODEL_INVALID'
  | 'MODEL_LAYOUT_UNKNOWN'
  | 'DEVICE_UNAVAILABLE'
  | 'KNOB_UNKNOWN'
  | 'KNOB_OUT_OF_RANGE'
  | 'KNOB_INVALID'
  | 'LABELS_INVALID'
  | 'SIZE_MISMATCH'
  | 'CONFIG_INVALID'
  | 'EXPRESSION_INVALID'
  | 'ARGUMENT_INVALID'
  | 'IO_ERROR';

export class SamstarError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SamstarError';
    this.code = code;
    this.hint = options.hint;
  }

  /** The text shown to a user: message, then the hint on its own line. */
  describe(): string {
    return this.hint ? `${this.message}\n  hint: ${this.hint}` : this.message;
  }
}

export function isSamstarError(e: unknown): e is SamstarError {
  return e instanceof SamstarError;
}

/** Levenshtein distance, for "did you mean" suggestions on unknown names. */
export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** The known name closest to `name`, when it is close enough to be a likely typo. */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** "did you mean X?" or "known: a, b, c" — for hints. */
export function suggestName(name: string, known: readonly string[]): string {
  const near = nearestName(name, known);
  return near ? `did you mean "${near}"? (known: ${known.join(', ')})` : `known: ${known.join(', ')}`;
}
