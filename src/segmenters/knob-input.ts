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
  const trimmed = value.trim();
  if (trimmed.startsWith('{')) {
    try {
      return { values: unwrap(JSON.parse(trimmed), '--knobs'), source: '--knobs' };
    } catch (cause) {
      if (cause instanceof SamstarError) throw cause;
      throw new SamstarError('KNOB_INVALID', `--knobs: inline JSON does not parse: ${(cause as Error).message}`, {
        hint: 'example: --knobs \'{"pred_iou_thresh": 0.7, "stability_score_thresh": 0.8}\'',
      });
    }
  }
  let text: string;
  try {
    text = await readFile(value, 'utf8');
  } catch (cause) {
    throw new SamstarError('IO_ERROR', `--knobs: cannot read ${value} (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`, {
      hint: 'pass a JSON/YAML file of knob values or inline JSON',
    });
  }
  let parsed: unknown;
  try {
    parsed = value.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (cause) {
    throw new SamstarError('KNOB_INVALID', `${value}: does not parse as ${value.endsWith('.json') ? 'JSON' : 'YAML'}: ${(cause as Error).message}`);
  }
  return { values: unwrap(parsed, value), source: value };
}

function unwrap(parsed: unknown, source: string): Record<string, unknown> {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new SamstarError('KNOB_INVALID', `${source}: expected an object of knob values`);
  }
  const record = parsed as Record<string, unknown>;
  if (record.knobs && typeof record.knobs === 'object' && !Array.isArray(record.knobs)) return record.knobs as Record<string, unknown>;
  return record;
}
