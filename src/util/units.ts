import { z } from 'zod';
import { SamstarError, type ErrorCode } from './errors.js';

/**
 * Physical lengths, one convention for the whole project: samstar keeps a pixel size in
 * nanometres per pixel internally (`pixel_size` in every config), and writes tables in
 * µm (lengths) and µm² (areas), the units microscopists read. A pixel size is written as
 * a bare number (nm, as the reward terms always took it), a string with a unit
 * ("0.65um", "650 nm", "0.65 µm") or `{ value, unit }`.
 */
export const LENGTH_UNITS: Readonly<Record<string, number>> = {
  pm: 1e-3,
  'Å': 0.1,
  A: 0.1,
  angstrom: 0.1,
  nm: 1,
  um: 1e3,
  'µm': 1e3,
  'μm': 1e3,
  micron: 1e3,
  microns: 1e3,
  micrometer: 1e3,
  micrometre: 1e3,
  mm: 1e6,
  cm: 1e7,
};

/** Nanometres per one `unit`, or undefined for a unit samstar does not know. */
export function nanometresPer(unit: string): number | undefined {
  const key = unit.trim();
  return LENGTH_UNITS[key] ?? LENGTH_UNITS[key.toLowerCase()];
}

const UNIT_LIST = 'nm, um (µm, micron), mm, Å, pm';

/** A number, "0.65um" / "650 nm", or { value, unit } → nanometres per pixel. */
export function parsePixelSize(input: unknown, where: string, code: ErrorCode = 'CONFIG_INVALID'): number {
  const bad = (what: string): SamstarError =>
    new SamstarError(code, `${where}: ${what}`, { hint: `write a pixel size as nanometres (650), with a unit ("0.65um", "650nm") or as { value: 0.65, unit: um }; units: ${UNIT_LIST}` });
  let value: unknown;
  let unit = 'nm';
  if (typeof input === 'number') value = input;
  else if (typeof input === 'string') {
    const m = /^\s*([0-9]*\.?[0-9]+(?:e[-+]?\d+)?)\s*([^\s0-9].*)?$/i.exec(input);
    if (!m) throw bad(`"${input}" is not a number with a unit`);
    value = Number(m[1]);
    unit = m[2]?.trim() ?? 'nm';
  } else if (input !== null && typeof input === 'object' && !Array.isArray(input)) {
    const o = input as Record<string, unknown>;
    const extra = Object.keys(o).filter((k) => k !== 'value' && k !== 'unit');
    if (extra.length > 0) throw bad(`unknown key "${extra[0]}" (a pixel size has value and unit)`);
    value = o.value;
    if (o.unit !== undefined && typeof o.unit !== 'string') throw bad(`unit must be a string, got ${JSON.stringify(o.unit)}`);
    unit = (o.unit as string | undefined) ?? 'nm';
  } else throw bad(`expected a number, a string such as "0.65um" or { value, unit }, got ${JSON.stringify(input)}`);
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw bad(`the value must be a number > 0, got ${JSON.stringify(value)}`);
  const factor = nanometresPer(unit);
  if (factor === undefined) throw bad(`unknown unit "${unit}"`);
  return value * factor;
}

/**
 * The zod form of a pixel size for config schemas: accepts what `parsePixelSize` accepts and
 * yields nanometres. A bad value or unit is one issue naming the field, with the units known.
 */
export const pixelSizeSchema = z
  .union([z.number(), z.string(), z.strictObject({ value: z.number(), unit: z.string().optional() })])
  .transform((input, ctx) => {
    try {
      return parsePixelSize(input, 'pixel size');
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `${(error as SamstarError).message.replace(/^pixel size: /, '')} (${(error as SamstarError).hint ?? ''})` });
      return z.NEVER;
    }
  });

/** "650 nm" or "0.65 µm": a pixel size as a person reads it. */
export function describePixelSize(nm: number): string {
  return nm >= 100 ? `${+(nm / 1000).toPrecision(4)} µm` : `${+nm.toPrecision(4)} nm`;
}
