import { SamstarError, suggestName } from '../util/errors.js';

/** The pipeline stage a knob invalidates: changing it re-runs that stage and everything after it. */
export type KnobStage = 'encode' | 'propose' | 'filter';

export type KnobSpec =
  | { name: string; kind: 'float'; min: number; max: number; default: number; stage: KnobStage; description: string; step?: number }
  | { name: string; kind: 'log'; min: number; max: number; default: number; stage: KnobStage; description: string }
  | { name: string; kind: 'int'; min: number; max: number; default: number; stage: KnobStage; description: string }
  | { name: string; kind: 'choice'; choices: readonly string[]; default: string; stage: KnobStage; description: string };

export type KnobValue = number | string;
export type KnobValues = Record<string, KnobValue>;

/**
 * A named, ordered set of knobs. Agents see the normalised box [−1, 1]^d; the
 * space maps both ways (log knobs are linear in log-space, ints round, choices
 * snap to the nearest of evenly spaced slots).
 */
export class KnobSpace {
  readonly specs: readonly KnobSpec[];
  private readonly byName: Map<string, KnobSpec>;

  constructor(specs: readonly KnobSpec[]) {
    this.specs = specs;
    this.byName = new Map(specs.map((s) => [s.name, s]));
  }

  get names(): string[] {
    return this.specs.map((s) => s.name);
  }

  get dimension(): number {
    return this.specs.length;
  }

  spec(name: string): KnobSpec {
    const s = this.byName.get(name);
    if (!s) throw new SamstarError('KNOB_UNKNOWN', `unknown knob "${name}"`, { hint: suggestName(name, this.names) });
    return s;
  }

  defaults(): KnobValues {
    const out: KnobValues = {};
    for (const s of this.specs) out[s.name] = s.default;
    return out;
  }

  /**
   * Fill defaults for missing knobs and validate every given value. Throws a
   * SamstarError naming the knob and the expected range on the first problem.
   * `source` (a file name or "--knobs") goes into the message.
   */
  resolve(partial: Record<string, unknown>, source = 'knobs'): KnobValues {
    const out = this.defaults();
    for (const [name, value] of Object.entries(partial)) {
      if (!this.byName.has(name)) {
        throw new SamstarError('KNOB_UNKNOWN', `${source}: unknown knob "${name}"`, { hint: suggestName(name, this.names) });
      }
      out[name] = validateKnob(this.spec(name), value, source);
    }
    return out;
  }

  /** Knob values → point in [−1, 1]^d. */
  toNormalised(values: KnobValues): number[] {
    return this.specs.map((s) => {
      const v = values[s.name] ?? s.default;
      switch (s.kind) {
        case 'choice': {
          const i = s.choices.indexOf(String(v));
          return s.choices.length === 1 ? 0 : (2 * i) / (s.choices.length - 1) - 1;
        }
        case 'log':
          return (2 * (Math.log(Number(v)) - Math.log(s.min))) / (Math.log(s.max) - Math.log(s.min)) - 1;
        default:
          return s.max === s.min ? 0 : (2 * (Number(v) - s.min)) / (s.max - s.min) - 1;
      }
    });
  }

  /** Point in [−1, 1]^d (clipped) → knob values. */
  fromNormalised(point: readonly number[]): KnobValues {
    if (point.length !== this.specs.length) {
      throw new SamstarError('ARGUMENT_INVALID', `normalised point has ${point.length} entries, knob space has ${this.specs.length}`);
    }
    const out: KnobValues = {};
    this.specs.forEach((s, i) => {
      const u = (Math.min(1, Math.max(-1, point[i])) + 1) / 2;
      switch (s.kind) {
        case 'choice':
          out[s.name] = s.choices[Math.min(s.choices.length - 1, Math.round(u * (s.choices.length - 1)))];
          break;
        case 'log':
          out[s.name] = Math.exp(Math.log(s.min) + u * (Math.log(s.max) - Math.log(s.min)));
          break;
        case 'int':
          out[s.name] = Math.round(s.min + u * (s.max - s.min));
          break;
        default:
          out[s.name] = snapToStep(s, s.min + u * (s.max - s.min));
      }
    });
    return out;
  }

  /**
   * The black-box agents' view of this space (structurally agents' SearchBounds):
   * the box [−1, 1]^d, with the grid step of each integer, choice or stepped
   * float knob in normalised units (0 for continuous and log knobs), so agents
   * can treat discrete knobs honestly.
   */
  searchBounds(): { low: number[]; high: number[]; steps: number[] } {
    const steps = this.specs.map((s) => {
      switch (s.kind) {
        case 'choice':
          return s.choices.length > 1 ? 2 / (s.choices.length - 1) : 0;
        case 'int':
          return s.max > s.min ? 2 / (s.max - s.min) : 0;
        case 'float':
          return s.step && s.max > s.min ? (2 * s.step) / (s.max - s.min) : 0;
        default:
          return 0;
      }
    });
    return { low: steps.map(() => -1), high: steps.map(() => 1), steps };
  }

  /** A sub-space with only the named knobs (e.g. the ones a task tunes). */
  subset(names: readonly string[]): KnobSpace {
    return new KnobSpace(names.map((n) => this.spec(n)));
  }

  /** Knob values of one stage, in spec order: the cache key of that stage. */
  stageKey(values: KnobValues, stage: KnobStage): string {
    return JSON.stringify(this.specs.filter((s) => s.stage === stage).map((s) => [s.name, values[s.name]]));
  }

  toJSON(): KnobSpec[] {
    return [...this.specs];
  }
}

function validateKnob(spec: KnobSpec, value: unknown, source: string): KnobValue {
  if (spec.kind === 'choice') {
    if (typeof value !== 'string' || !spec.choices.includes(value)) {
      throw new SamstarError('KNOB_INVALID', `${source}: knob "${spec.name}" = ${JSON.stringify(value)} is not one of ${spec.choices.join(', ')}`);
    }
    return value;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new SamstarError('KNOB_INVALID', `${source}: knob "${spec.name}" = ${JSON.stringify(value)} is not a finite number`, {
      hint: `expected a number in [${spec.min}, ${spec.max}]`,
    });
  }
  if (spec.kind === 'int' && !Number.isInteger(value)) {
    throw new SamstarError('KNOB_INVALID', `${source}: knob "${spec.name}" = ${value} must be an integer`, {
      hint: `expected an integer in [${spec.min}, ${spec.max}]`,
    });
  }
  if (value < spec.min || value > spec.max) {
    throw new SamstarError('KNOB_OUT_OF_RANGE', `${source}: knob "${spec.name}" = ${value} is outside [${spec.min}, ${spec.max}]`, {
      hint: spec.description,
    });
  }
  return spec.kind === 'float' ? snapToStep(spec, value) : value;
}

/**
 * Float knobs with a `step` live on a grid (min + k·step). The SAM filter stage
 * precomputes exact pixel counts at every grid level, so its cached answers are
 * exact only for values on the grid; values in between snap to the nearest one.
 */
export function snapToStep(spec: KnobSpec, value: number): number {
  if (spec.kind !== 'float' || !spec.step) return value;
  const k = Math.round((value - spec.min) / spec.step);
  const snapped = spec.min + k * spec.step;
  // Round away binary noise (0.1 + 0.2) so values print and compare cleanly.
  return Math.min(spec.max, Math.max(spec.min, Number(snapped.toFixed(10))));
}
