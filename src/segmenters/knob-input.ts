import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { SamstarError } from '../util/errors.js';

/**
 * Knob values from the command line: inline JSON (`{"pred_iou_thresh":0.7}`) or
 * a JSON/YAML file. A file written by `samstar train` ({ knobs: {...}, ... })
 * is accepted as is. Validation against the knob space happens later, with the
 * source named in the message.
 */
export async function readKnobInput(value: string): Promise<{ values: Record<string, unknown>; source: string }> {
  const { parsed, source } = await readInlineOrFile(value, { option: '--knobs', opener: '{', example: '--knobs \'{"pred_iou_thresh": 0.7, "stability_score_thresh": 0.8}\'', code: 'KNOB_INVALID' });
  return { values: unwrap(parsed, source), source };
}

/**
 * A command-line value that is either inline JSON (it starts with `opener`) or the path of a
 * JSON (.json) or YAML file; parse errors name the option or the file. `source` is the option for
 * inline values and the path for files.
 */
export async function readInlineOrFile(
  value: string,
  how: { readonly option: string; readonly opener: '{' | '['; readonly example: string; readonly code: 'KNOB_INVALID' | 'ARGUMENT_INVALID' },
): Promise<{ parsed: unknown; source: string }> {
  const trimmed = value.trim();
  if (trimmed.startsWith(how.opener)) {
    try {
      return { parsed: JSON.parse(trimmed), source: how.option };
    } catch (cause) {
      throw new SamstarError(how.code, `${how.option}: inline JSON does not parse: ${(cause as Error).message}`, { hint: `example: ${how.example}` });
    }
  }
  let text: string;
  try {
    text = await readFile(value, 'utf8');
  } catch (cause) {
    throw new SamstarError('IO_ERROR', `${how.option}: cannot read ${value} (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`, {
      hint: `pass inline JSON or a JSON/YAML file; example: ${how.example}`,
    });
  }
  try {
    return { parsed: value.endsWith('.json') ? JSON.parse(text) : parseYaml(text), source: value };
  } catch (cause) {
    throw new SamstarError(how.code, `${value}: does not parse as ${value.endsWith('.json') ? 'JSON' : 'YAML'}: ${(cause as Error).message}`);
  }
}

function unwrap(parsed: unknown, source: string): Record<string, unknown> {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new SamstarError('KNOB_INVALID', `${source}: expected an object of knob values`);
  }
  const record = parsed as Record<string, unknown>;
  if (record.knobs && typeof record.knobs === 'object' && !Array.isArray(record.knobs)) return record.knobs as Record<string, unknown>;
  return record;
}
