import { z } from 'zod';
import { compositeSchema } from '../../rewards/config.js';
import { TERMS } from '../../rewards/registry.js';
import { taskSchema } from './task.js';

/**
 * JSON Schemas of the YAML configs, generated from the zod schemas that validate them (one
 * source of truth), for editors: a config whose first line is
 * `# yaml-language-server: $schema=../../schemas/task.schema.json` gets completion and checks
 * in any editor with the YAML language server. `samstar schema task|reward` prints them; the
 * copies in schemas/ are kept current by test/config/json-schema.test.ts.
 *
 * The schemas describe what may be written (zod's input side: defaults optional, pixel sizes
 * as number, "0.65um" or { value, unit }). Cross-field rules (knob names, expressions, "one
 * of expected_count…") stay with samstar's own validation, which names the field.
 */
export const SCHEMA_NAMES = ['task', 'reward'] as const;
export type SchemaName = (typeof SCHEMA_NAMES)[number];

/** Where the generated copies live in the package. */
export const SCHEMA_FILES: Readonly<Record<SchemaName, string>> = { task: 'schemas/task.schema.json', reward: 'schemas/reward.schema.json' };

type Json = Record<string, unknown>;

const toJson = (schema: z.ZodType): Json => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;

export function jsonSchema(name: SchemaName): Json {
  return name === 'task' ? taskJsonSchema() : rewardJsonSchema();
}

export function rewardJsonSchema(): Json {
  const { $schema, ...base } = toJson(compositeSchema);
  const properties = { ...(base.properties as Json) };
  // Each term: its own schema plus `type` (optional when the term's name is its type).
  const terms = TERMS.map((term) => {
    const { $schema: _drop, ...own } = toJson(term.schema as unknown as z.ZodType);
    const props = { type: { const: term.type, description: term.summary }, ...((own.properties as Json) ?? {}) };
    return { ...own, properties: props };
  });
  properties.terms = {
    type: 'object',
    description: 'reward terms by name; `type` picks the term (default: the name)',
    propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
    additionalProperties: { anyOf: [...terms, { type: 'null' }] },
  };
  return { $schema, title: 'samstar reward config', ...base, properties };
}

export function taskJsonSchema(): Json {
  const { $schema, ...base } = toJson(taskSchema);
  const properties = { ...(base.properties as Json) };
  const { $schema: _drop, title: _title, ...reward } = rewardJsonSchema();
  properties.reward = { anyOf: [{ type: 'string', description: 'a rewards YAML, relative to this file' }, { ...reward, description: 'the reward config inline' }] };
  return { $schema, title: 'samstar task config', ...base, properties };
}

/** The file text of a generated schema (stable: 2-space JSON and a newline). */
export function schemaText(name: SchemaName): string {
  return `${JSON.stringify(jsonSchema(name), null, 2)}\n`;
}
