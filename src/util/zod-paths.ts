/**
 * Paths into zod schemas and into the data they parse: the known keys at a path (for "did you
 * mean" hints), the value found at a path, and a dotted path for messages. Shared by every config
 * parser (task, reward, agent options, synthetic data), so an error names a field the same way
 * everywhere.
 */
export type Path = readonly PropertyKey[];

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

/** The value at `path` inside parsed-from data (undefined where the path leaves the data). */
export function valueAt(data: unknown, path: Path): unknown {
  let v = data;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key as string];
  }
  return v;
}

/** `prefix` + `path` as a dotted path for messages ("(top level)" when empty). */
export function formatPath(prefix: Path, path: Path): string {
  return [...prefix, ...path].map(String).join('.') || '(top level)';
}
