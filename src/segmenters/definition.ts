import type { KnobSpace, KnobValues } from './knobs.js';
import type { SegmenterChoice } from './load-segmenter.js';
import type { Segmenter } from './types.js';
import { SamstarError } from '../util/errors.js';

/**
 * What a segmenter declares about itself, in its own file (`defineSegmenter`),
 * so that the registry (registry.ts) is a plain list and everything else
 * (task configs, the CLI's --segmenter, worker threads, the contract suite in
 * test/segmenters/contract.test.ts) derives from that list.
 */
export interface SegmenterDefinition {
  /** The name task configs, --segmenter and policies use; the loaded segmenter's `name`. */
  readonly name: string;
  /** One line for help texts and the README. */
  readonly description: string;
  /** The knob space, without loading a model (task configs and policies are checked against it). */
  readonly knobSpace: () => KnobSpace;
  /**
   * Whether it runs a model from ONNX files: only then do `encoder`/`decoder`
   * (and the model's cache budgets) mean anything; a weight-free segmenter refuses them.
   */
  readonly usesModel: boolean;
  /** Knobs tuned when a task switches to this segmenter without its own tune list (`--segmenter`, `compare --segmenters`). */
  readonly defaultTune: readonly string[];
  /**
   * Knob values that segment a small synthetic frame of bright round particles
   * well: what the contract suite runs it with (as a reward term's example config).
   */
  readonly example: KnobValues;
  /**
   * Named lists of propose-stage settings that online adaptation may choose among per frame
   * (`--adapt-propose NAME`), e.g. every blob polarity × σ range. Optional.
   */
  readonly proposePresets?: Readonly<Record<string, readonly KnobValues[]>>;
  /** Build it. `options.encoder`/`decoder` are only ever given when `usesModel`. */
  readonly load: (options: SegmenterChoice) => Promise<Segmenter>;
  /**
   * The plain-data options that rebuild `segmenter` elsewhere (a worker thread),
   * or undefined when it is not this definition's own class (a user's segmenter
   * that borrows the name is not rebuilt as ours).
   */
  readonly rebuildOptions: (segmenter: Segmenter) => PlainSegmenterOptions | undefined;
}

/** The structured-clone-safe part of SegmenterChoice (no callbacks): what travels to a worker. */
export type PlainSegmenterOptions = Omit<SegmenterChoice, 'onDecodeProgress'>;

/** Declare a segmenter (checks the declaration once, at import time). */
export function defineSegmenter<N extends string>(definition: SegmenterDefinition & { readonly name: N }): SegmenterDefinition & { readonly name: N } {
  const names = new Set(definition.knobSpace().names);
  const presetKnobs = Object.values(definition.proposePresets ?? {}).flatMap((list) => list.flatMap((c) => Object.keys(c)));
  const unknown = [...definition.defaultTune, ...Object.keys(definition.example), ...presetKnobs].filter((n) => !names.has(n));
  if (!/^[a-z][a-z0-9-]*$/.test(definition.name) || unknown.length > 0 || definition.defaultTune.length === 0) {
    // A mistake in a segmenter's own file, not a user input: it fails at import, before any command runs.
    throw new SamstarError('ARGUMENT_INVALID', `defineSegmenter("${definition.name}"): the name must be lower-case (a-z, 0-9, -) and defaultTune, example and proposePresets must name its own knobs${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`);
  }
  return definition;
}
