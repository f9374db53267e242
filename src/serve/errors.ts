import { basename } from 'node:path';
import { isSamstarError, type ErrorCode } from '../util/errors.js';

/** Codes the HTTP layer adds to the library's error codes. */
export type ServeErrorCode =
  | ErrorCode
  | 'BAD_REQUEST'
  | 'NOT_FOUND'
  | 'UPGRADE_REQUIRED'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'BODY_TOO_LARGE'
  | 'IMAGE_TOO_LARGE'
  | 'QUEUE_FULL'
  | 'CLIENT_LIMIT'
  | 'HOST_NOT_ALLOWED'
  | 'ORIGIN_NOT_ALLOWED'
  | 'UNAUTHORIZED'
  | 'SHUTTING_DOWN'
  | 'INTERNAL';

/** An error with the HTTP status it answers with. */
export class ServeError extends Error {
  constructor(
    readonly status: number,
    readonly code: ServeErrorCode,
    message: string,
    readonly hint?: string,
    /** Seconds, for 503 answers. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'ServeError';
  }
}

/** The JSON every error answer carries (HTTP bodies and stream error messages). */
export interface ErrorBody {
  code: ServeErrorCode;
  message: string;
  hint?: string;
}

/** HTTP status of a library error: the client's input (400/415/422) or our fault (500). */
function statusOfCode(code: ErrorCode): number {
  switch (code) {
    case 'IMAGE_UNSUPPORTED':
      return 415;
    case 'IMAGE_UNREADABLE':
    case 'ARGUMENT_INVALID':
    case 'SIZE_MISMATCH':
      return 400;
    case 'KNOB_UNKNOWN':
    case 'KNOB_OUT_OF_RANGE':
    case 'KNOB_INVALID':
    case 'LABELS_INVALID':
    case 'CONFIG_INVALID':
    case 'EXPRESSION_INVALID':
      return 422;
    default:
      return 500;
  }
}

/** Fastify's own errors (body limits, content types, JSON parsing) by their `code`. */
const FASTIFY_CODES: Record<string, { status: number; code: ServeErrorCode; hint?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'BODY_TOO_LARGE', hint: 'send a smaller image, or start the server with a larger --max-body-mb' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    hint: 'send image/png, image/tiff or image/jpeg, or raw pixels as application/octet-stream with x-width, x-height, x-dtype and x-channels headers',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'BAD_REQUEST' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'BAD_REQUEST' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'BAD_REQUEST' },
  FST_ERR_CTP_EMPTY_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', hint: 'set a Content-Type header' },
  FST_ERR_CTP_INVALID_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', hint: 'set a Content-Type header' },
};

/** Any thrown value → status + JSON body. Unknown errors are 500s that name what failed, never a stack. */
export function describeError(error: unknown): { status: number; body: ErrorBody; retryAfter?: number } {
  if (error instanceof ServeError) {
    return { status: error.status, body: withHint({ code: error.code, message: error.message }, error.hint), retryAfter: error.retryAfter };
  }
  // Library errors name files; answers name them by file name only (no paths of the serving machine).
  if (isSamstarError(error)) {
    return { status: statusOfCode(error.code), body: withHint({ code: error.code, message: hidePaths(error.message) }, error.hint === undefined ? undefined : hidePaths(error.hint)) };
  }
  const fastifyCode = (error as { code?: unknown })?.code;
  if (typeof fastifyCode === 'string' && FASTIFY_CODES[fastifyCode]) {
    const known = FASTIFY_CODES[fastifyCode];
    return { status: known.status, body: withHint({ code: known.code, message: (error as Error).message }, known.hint) };
  }
  const statusCode = (error as { statusCode?: unknown })?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return { status: statusCode, body: { code: 'BAD_REQUEST', message: (error as Error).message } };
  }
  const message = hidePaths(error instanceof Error ? error.message : String(error));
  return { status: 500, body: { code: 'INTERNAL', message: `internal error: ${message}`, hint: 'the server keeps serving; please report this with the frame that caused it' } };
}

function withHint(body: ErrorBody, hint: string | undefined): ErrorBody {
  return hint ? { ...body, hint } : body;
}

/**
 * Absolute file paths in a text (POSIX `/a/b…`, `~/…`, Windows `C:\\a\\b…`, `file://` URLs)
 * replaced by their last component: answers never show where files live on the
 * serving machine. Meant for library messages (they name files, never routes).
 */
export function hidePaths(text: string): string {
  return text
    .replace(/file:\/\/[^\s"'`<>)]+/g, (url) => basename(url))
    .replace(/(?<![\w.:/\\-])[A-Za-z]:\\(?:[^\\\s"'`<>:]+\\)*([^\\\s"'`<>:]+)/g, '$1')
    .replace(/(?<![\w.:/~-])~?\/(?:[^/\s"'`<>:]+\/)+([^/\s"'`<>:]+)/g, '$1');
}

/** A description for an answer (health, policy): string values that are absolute paths become file names. */
export function withoutPaths<T>(value: T): T {
  if (typeof value === 'string') return (/^(?:\/|~\/|[A-Za-z]:\\|file:\/\/)/.test(value) ? basename(value.replace(/\\/g, '/').replace(/\/+$/, '')) : value) as T;
  if (Array.isArray(value)) return value.map((v) => withoutPaths(v)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, withoutPaths(v)])) as T;
  }
  return value;
}
