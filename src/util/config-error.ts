import type { z } from 'zod';
import { SamstarError, suggestName } from './errors.js';
import { formatPath, knownKeysAt, type Path, valueAt } from './zod-paths.js';

/**
 * The one way a failed zod parse becomes an error, for every config parser (task, reward, agent
 * options, synthetic data): a CONFIG_INVALID SamstarError whose message is a title line and then
 * one line per problem, each naming the dotted path of the field, what is wrong and the value
 * found; an unknown key, or a mistyped choice, comes with the nearest known name in the hint.
 *
 *   x.yaml: invalid reward config
 *     terms.size.tolerence: unknown key "tolerence"
 *     terms.size.target.sigma: spread must be > 0 (found -1)
 */
export interface ConfigErrorOptions {
  /** The first line, naming the config: "x.yaml: invalid task config", "synth options: invalid". */
  readonly title: string;
  /** The schema that failed, for the keys it knows at a path. */
  readonly schema: unknown;
  /** The data it was given, for the values found. */
  readonly data: unknown;
  /** Where `data` sits in its file (prepended to every path), e.g. ['terms', 'size']. */
  readonly prefix?: Path;
  /** The hint when no problem suggests a name. */
  readonly hint?: string;
}

export function configError(issues: readonly z.core.$ZodIssue[], options: ConfigErrorOptions): SamstarError {
  const prefix = options.prefix ?? [];
  const lines: string[] = [];
  const hints: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(options.schema, issue.path);
      for (const key of issue.keys) {
        lines.push(`${formatPath(prefix, [...issue.path, key])}: unknown key "${key}"`);
        hints.push(`"${key}": ${suggestName(key, known)}`);
      }
      continue;
    }
    const where = formatPath(prefix, issue.path);
    const found = valueAt(options.data, issue.path);
    const message = found === undefined && issue.code === 'invalid_type' ? 'is required' : issue.message.replace(/^Invalid input: /, '');
    lines.push(`${where}: ${message}${found === undefined ? '' : ` (found ${show(found)})`}`);
    // A mistyped choice ("brite", "centre"): suggest the nearest allowed value.
    const allowed = (issue as { values?: unknown[] }).values ?? (issue as { options?: unknown[] }).options;
    if (typeof found === 'string' && Array.isArray(allowed) && allowed.every((v) => typeof v === 'string')) {
      hints.push(`${where} "${found}": ${suggestName(found, allowed as string[])}`);
    }
  }
  const hint = hints.length ? hints.join('; ') : options.hint;
  return new SamstarError('CONFIG_INVALID', `${options.title}\n  ${lines.join('\n  ')}`, { hint });
}

/** A found value, short enough for one error line. */
function show(value: unknown): string {
  if (typeof value === 'number') return String(value);
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
