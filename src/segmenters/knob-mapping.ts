import { SamstarError } from '../util/errors.js';
import type { KnobSpace, KnobValues } from './knobs.js';

/**
 * The one mapping from an agent's point to the knobs a segmenter runs with:
 * the tuned knobs come from the point in [−1, 1]^d (`tuned.fromNormalised`),
 * the fixed knobs from the task, the segmenter's defaults fill the rest, and
 * the segmenter's own space validates the whole vector.
 *
 *   const mapping = new KnobMapping(segmenter.knobs, tunedSpace, task.segmenter.fixed);
 *   mapping.knobsOf(x)             // point → full knob values (what gets evaluated and recorded)
 *   mapping.resolve({ a: 0.7 })    // knob values given by name (tuned or overrides) → full knob values
 *
 * Every place that turns a point into knobs uses it: TuneEnv (step, evaluate,
 * and through it the training runner), AdjustEnv, StreamEnv, policy training,
 * policies at deployment and online adaptation.
 */
export class KnobMapping {
  constructor(
    /** The segmenter's full knob space. */
    readonly full: KnobSpace,
    /** The tuned knobs (bounds may be narrower than the segmenter's): the order of the point's entries. */
    readonly tuned: KnobSpace,
    /** Knobs held at a value (not tuned). */
    readonly fixed: KnobValues = {},
    /** Names the mapping in error messages (e.g. "TuneEnv knobs", "policy P"). */
    readonly source = 'knobs',
  ) {
    checkTunedSpace(full, tuned, fixed, source);
  }

  /** The number of tuned knobs: the length of a point. */
  get dimension(): number {
    return this.tuned.dimension;
  }

  /** A point in [−1, 1]^d (entries outside are clipped) → the full, validated knob values. */
  knobsOf(x: readonly number[], source = this.source): KnobValues {
    return this.full.resolve({ ...this.fixed, ...this.tuned.fromNormalised(x) }, source);
  }

  /** Knob values by name (tuned knobs, or overrides of fixed ones) → the full, validated knob values. */
  resolve(knobs: Record<string, unknown>, source = this.source): KnobValues {
    return this.full.resolve({ ...this.fixed, ...knobs }, source);
  }

  /** The tuned knobs of a full knob vector. */
  tunedOf(values: KnobValues): KnobValues {
    const out: KnobValues = {};
    for (const name of this.tuned.names) out[name] = values[name];
    return out;
  }

  /** The defaults with the fixed knobs: the setting a study is compared against. */
  defaults(source = this.source): KnobValues {
    return this.full.resolve(this.fixed, source);
  }
}

/** The tuned knobs must be knobs of the segmenter, of the same kind, inside its bounds, and not also fixed; the fixed values must be valid. */
function checkTunedSpace(full: KnobSpace, tuned: KnobSpace, fixed: KnobValues, source: string): void {
  for (const spec of tuned.specs) {
    const own = full.spec(spec.name);
    if (own.kind !== spec.kind) {
      throw new SamstarError('KNOB_INVALID', `${source}: knob "${spec.name}" is ${spec.kind} in the tuned space but ${own.kind} in the segmenter`);
    }
    if (spec.kind === 'choice' && own.kind === 'choice') {
      const unknown = spec.choices.filter((c) => !own.choices.includes(c));
      if (unknown.length) throw new SamstarError('KNOB_INVALID', `${source}: knob "${spec.name}" has choices ${unknown.join(', ')} the segmenter does not know`);
    } else if (spec.kind !== 'choice' && own.kind !== 'choice' && (spec.min < own.min || spec.max > own.max)) {
      throw new SamstarError('KNOB_OUT_OF_RANGE', `${source}: tuned range [${spec.min}, ${spec.max}] of knob "${spec.name}" exceeds the segmenter's [${own.min}, ${own.max}]`);
    }
    if (spec.name in fixed) {
      throw new SamstarError('ARGUMENT_INVALID', `${source}: knob "${spec.name}" is both tuned and fixed`, { hint: 'remove it from fixed or from the tuned space' });
    }
  }
  full.resolve(fixed, `${source} (fixed)`);
}
