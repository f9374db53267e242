import type { z } from 'zod';
import { SamstarError, suggestName } from '../src/util/errors.js';
import { formatPath, knownKeysAt, type Path, valueAt } from '../src/util/zod-paths.js';

/**
 * Zod issues as one clear CONFIG_INVALID error: each line names the file and the dotted path of
 * the field, what is wrong and the value found; an unknown key comes with the nearest known key.
 * (The path helpers are in src/util/zod-paths.ts, shared with the other config parsers.)
 */

/** A found value, short enough for one error line. */
function show(value: unknown): string {
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Turn a failed parse into a SamstarError. `prefix` is the path of `data` inside the file. */
export function configError(
  file: string,
  schema: unknown,
  data: unknown,
  issues: readonly z.core.$ZodIssue[],
  prefix: Path = [],
): SamstarError {
  const lines: string[] = [];
  const hints: string[] = [];
  for (const issue of issues) {
    const where = formatPath(prefix, issue.path);
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, issue.path);
      for (const key of issue.keys) {
        lines.push(`${formatPath(prefix, [...issue.path, key])}: unknown key "${key}"`);
        hints.push(`"${key}": ${suggestName(key, known)}`);
      }
      continue;
    }
    const found = valueAt(data, issue.path);
    lines.push(`${where}: ${issue.message} (found ${show(found)})`);
    // A mistyped choice ("brite", "centre"): suggest the nearest allowed value.
    const allowed = (issue as { values?: unknown[]; options?: unknown[] }).values ?? (issue as { options?: unknown[] }).options;
    if (typeof found === 'string' && Array.isArray(allowed) && allowed.every((v) => typeof v === 'string')) {
      hints.push(`${where} "${found}": ${suggestName(found, allowed as string[])}`);
    }
  }
  const hint = hints.length ? hints.join('; ') : undefined;
  return new SamstarError('CONFIG_INVALID', `${file}: invalid reward config\n  ${lines.join('\n  ')}`, { hint });
}
