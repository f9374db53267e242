import type { z } from 'zod';
import { SamstarError, suggestName } from '../src/util/errors.js';

/**
 * Zod issues as one clear CONFIG_INVALID error: each line names the file and the dotted path of
 * the field, what is wrong and the value found; an unknown key comes with the nearest known key.
 */
type Path = readonly PropertyKey[];

interface ZodDefLike {
  type?: string;
  shape?: Record<string, unknown>;
  innerType?: unknown;
  in?: unknown;
  element?: unknown;
  valueType?: unknown;
  options?: unknown[];
}

function defOf(schema: unknown): ZodDefLike | undefined {
  return (schema as { _zod?: { def?: ZodDefLike } })?._zod?.def;
}

/** Known keys of the object schema(s) reachable at `path` (union options merged). */
export function knownKeysAt(schema: unknown, path: Path): string[] {
  const keys = new Set<string>();
  const visit = (node: unknown, rest: Path): void => {
    const def = defOf(node);
    if (!def) return;
    switch (def.type) {
      case 'optional':
      case 'default':
      case 'prefault':
      case 'nullable':
      case 'readonly':
      case 'catch':
        return visit(def.innerType, rest);
      case 'pipe':
        return visit(def.in, rest);
      case 'union':
        for (const option of def.options ?? []) visit(option, rest);
        return;
      case 'array':
        if (rest.length > 0) visit(def.element, rest.slice(1));
        return;
      case 'record':
        if (rest.length > 0) visit(def.valueType, rest.slice(1));
        return;
      case 'object':
        if (rest.length === 0) {
          for (const k of Object.keys(def.shape ?? {})) keys.add(k);
          return;
        }
        return visit(def.shape?.[String(rest[0])], rest.slice(1));
      default:
        return;
    }
  };
  visit(schema, path);
  return [...keys];
}

function valueAt(data: unknown, path: Path): unknown {
  let v = data;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key as string];
  }
  return v;
}

function show(value: unknown): string {
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function formatPath(prefix: Path, path: Path): string {
  return [...prefix, ...path].map(String).join('.') || '(top level)';
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
