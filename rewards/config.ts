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
 * or, for multi-objective tuning (`samstar train` then searches the Pareto front), named
 * objectives with a direction and optional weights (all or none; they pick best-knobs.json):
 *
 *   objectives:
 *     - { name: fidelity, expr: "0.5*size + 0.5*shape", direction: maximise, weight: 2 }
 *     - { name: overlap, expr: overlap, direction: minimise, weight: 1 }
 *
 * A plain string is `{ expr: STRING, direction: maximise }`, named after the expression when
 * it is a term name and `objective_I` otherwise.
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
    objectives: z
      .array(z.union([z.string().min(1, 'must not be empty'), z.record(z.string(), z.unknown())]))
      .min(1, 'give at least one objective')
      .optional(),
  })
  .superRefine((c, ctx) => {
    if (Object.keys(c.terms).length === 0) ctx.addIssue({ code: 'custom', path: ['terms'], message: 'define at least one term' });
    if (c.total === undefined && c.objectives === undefined) {
      ctx.addIssue({ code: 'custom', path: ['total'], message: 'give a total expression (or objectives)' });
    }
  });

export const OBJECTIVE_DIRECTIONS = ['maximise', 'minimise'] as const;
export type ObjectiveDirection = (typeof OBJECTIVE_DIRECTIONS)[number];

/** One entry of `objectives:` in its long form (checked per entry so errors name `objectives[i].field`). */
export const objectiveSchema = z.strictObject({
  name: z.string().regex(TERM_NAME, 'must be an identifier (letters, digits, _)').optional(),
  expr: z.string().min(1, 'must not be empty'),
  direction: z.enum(['maximise', 'minimise', 'maximize', 'minimize']).default('maximise'),
  weight: z.number().finite().min(0, 'must be ≥ 0').optional(),
});

export interface ObjectiveSpec {
  readonly name: string;
  /** The expression over the term names. */
  readonly expr: string;
  readonly direction: ObjectiveDirection;
  /** Present on every objective or on none. */
  readonly weight?: number;
}

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
  readonly objectives?: readonly ObjectiveSpec[];
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
    objectives: raw.objectives ? parseObjectives(raw.objectives, source) : undefined,
  };
}

/**
 * The `objectives:` list in its long form: names unique identifiers, directions spelt
 * maximise/minimise (the American spelling is accepted), weights on all entries or none, not all 0.
 */
export function parseObjectives(list: readonly unknown[], source: string): ObjectiveSpec[] {
  const out: ObjectiveSpec[] = list.map((entry, i) => {
    if (typeof entry === 'string') return { name: TERM_NAME.test(entry) ? entry : `objective_${i}`, expr: entry, direction: 'maximise' };
    if (isObjectiveSpec(entry)) return entry; // already parsed (a config stored with a study)
    const parsed = objectiveSchema.safeParse(entry);
    if (!parsed.success) throw configError(parsed.error.issues, { title: `${source}: invalid reward config`, schema: objectiveSchema, data: entry, prefix: ['objectives', i] });
    const o = parsed.data;
    const direction: ObjectiveDirection = o.direction.startsWith('max') ? 'maximise' : 'minimise';
    const name = o.name ?? (TERM_NAME.test(o.expr) ? o.expr : `objective_${i}`);
    return { name, expr: o.expr, direction, ...(o.weight === undefined ? {} : { weight: o.weight }) };
  });
  out.forEach((o, i) => {
    const j = out.findIndex((p) => p.name === o.name);
    if (j !== i) {
      throw new SamstarError('CONFIG_INVALID', `${source}: objectives.${i}.name: "${o.name}" is also the name of objectives.${j}`, {
        hint: 'give each objective its own name (name: …)',
      });
    }
  });
  const weighted = out.filter((o) => o.weight !== undefined).length;
  if (weighted > 0 && weighted < out.length) {
    const missing = out.findIndex((o) => o.weight === undefined);
    throw new SamstarError('CONFIG_INVALID', `${source}: objectives.${missing}.weight: missing; give a weight on every objective or on none`, {
      hint: 'weights pick the point of the Pareto front written to best-knobs.json; without weights the knee point is picked',
    });
  }
  if (weighted > 0 && out.every((o) => o.weight === 0)) {
    throw new SamstarError('CONFIG_INVALID', `${source}: objectives.*.weight: all weights are 0`, { hint: 'give at least one objective a weight > 0' });
  }
  return out;
}

function isObjectiveSpec(entry: unknown): entry is ObjectiveSpec {
  if (entry === null || typeof entry !== 'object') return false;
  const o = entry as Record<string, unknown>;
  return typeof o.name === 'string' && typeof o.expr === 'string' && (o.direction === 'maximise' || o.direction === 'minimise') &&
    (o.weight === undefined || (typeof o.weight === 'number' && Number.isFinite(o.weight) && o.weight >= 0)) &&
    Object.keys(o).every((k) => ['name', 'expr', 'direction', 'weight'].includes(k));
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
