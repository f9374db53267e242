import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SamstarError, suggestName } from '../src/util/errors.js';
import { getTerm, termTypes } from './registry.js';
import { configError } from '../src/util/config-error.js';

/**
 * A composite reward config (YAML):
 *
 *   measure: { ring_width: 2, foreground: bright }     # optional measurement options
 *   terms:
 *     size:    { type: size, target: { distribution: lognormal, median: 12, sigma: 0.25 } }
 *     shape:   { type: shape, circularity: { min: 0.8 } }
 *     overlap: {}                                        # type defaults to the term's name
 *   total: "0.5*size + 0.3*shape - 0.2*overlap"
 *   objectives: [size, shape, "-overlap"]               # optional vector, each an expression
 *
 * Term names are what the expressions use; each term's parameters are checked by its own
 * schema (unknown keys are errors with the nearest known key).
 */
const TERM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const measureSchema = z.strictObject({
  /** Width in pixels of the ring just outside each instance (contrast). */
  ring_width: z.number().int('must be an integer').min(1, 'must be ≥ 1').max(64, 'must be ≤ 64').default(2),
  /** Which side of the threshold is foreground: auto = the minority side. */
  foreground: z.enum(['auto', 'bright', 'dark']).default('auto'),
  /** Fixed grey threshold (0–255) instead of Otsu's. */
  foreground_threshold: z.number().min(0, 'must be ≥ 0').max(255, 'must be ≤ 255').optional(),
});

export const compositeSchema = z
  .strictObject({
    description: z.string().optional(),
    measure: measureSchema.default({ ring_width: 2, foreground: 'auto' }),
    terms: z.record(z.string(), z.record(z.string(), z.unknown()).nullable()),
    total: z.string().min(1, 'must not be empty').optional(),
    objectives: z.array(z.string().min(1, 'must not be empty')).min(1, 'give at least one objective').optional(),
  })
  .superRefine((c, ctx) => {
    if (Object.keys(c.terms).length === 0) ctx.addIssue({ code: 'custom', path: ['terms'], message: 'define at least one term' });
    if (c.total === undefined && c.objectives === undefined) {
      ctx.addIssue({ code: 'custom', path: ['total'], message: 'give a total expression (or objectives)' });
    }
  });

export interface TermSpec {
  readonly name: string;
  readonly type: string;
  readonly params: unknown;
}

export interface RewardConfig {
  readonly source: string;
  readonly description?: string;
  readonly measure: z.infer<typeof measureSchema>;
  readonly terms: readonly TermSpec[];
  readonly total?: string;
  readonly objectives?: readonly string[];
}

/** Validate a parsed config object; `source` names it in errors (a file path, or "config"). */
export function parseRewardConfig(data: unknown, source = 'reward config'): RewardConfig {
  const result = compositeSchema.safeParse(data);
  if (!result.success) throw configError(result.error.issues, { title: `${source}: invalid reward config`, schema: compositeSchema, data });
  const raw = result.data;
  const terms: TermSpec[] = [];
  for (const [name, body] of Object.entries(raw.terms)) {
    if (!TERM_NAME.test(name)) {
      throw new SamstarError('CONFIG_INVALID', `${source}: terms.${name}: term names must be identifiers (letters, digits, _)`, {
        hint: 'the names are used in the total expression',
      });
    }
    const { type: explicitType, ...params } = (body ?? {}) as Record<string, unknown>;
    if (explicitType !== undefined && typeof explicitType !== 'string') {
      throw new SamstarError('CONFIG_INVALID', `${source}: terms.${name}.type: must be a term type name (found ${JSON.stringify(explicitType)})`, {
        hint: `known: ${termTypes.join(', ')}`,
      });
    }
    const type = explicitType ?? name;
    if (!termTypes.includes(type)) {
      throw new SamstarError(
        'CONFIG_INVALID',
        explicitType === undefined
          ? `${source}: terms.${name}: no type given and "${name}" is not a term type`
          : `${source}: terms.${name}.type: unknown term type "${type}"`,
        { hint: suggestName(type, termTypes) },
      );
    }
    const term = getTerm(type);
    const parsed = term.schema.safeParse(params);
    if (!parsed.success) throw configError(parsed.error.issues, { title: `${source}: invalid reward config`, schema: term.schema, data: params, prefix: ['terms', name] });
    terms.push({ name, type, params: parsed.data });
  }
  return {
    source,
    description: raw.description,
    measure: raw.measure,
    terms,
    total: raw.total,
    objectives: raw.objectives,
  };
}

export async function loadRewardConfig(path: string): Promise<RewardConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new SamstarError('IO_ERROR', `cannot read reward config ${path}: ${(error as Error).message}`, { cause: error });
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    throw new SamstarError('CONFIG_INVALID', `${path}: not valid YAML: ${(error as Error).message}`, { cause: error });
  }
  return parseRewardConfig(data, path);
}
