import { SamstarError, suggestName } from '../util/errors.js';
import { blobs } from './blobs/segmenter.js';
import type { PlainSegmenterOptions, SegmenterDefinition } from './definition.js';
import type { KnobSpace } from './knobs.js';
import type { SegmenterChoice } from './load-segmenter.js';
import { otsu } from './otsu/segmenter.js';
import { sam } from './sam/definition.js';
import type { Segmenter } from './types.js';

/**
 * The segmenters, as a plain list: the one place their names live. Each
 * segmenter's file declares its name, description, knob space, default tuned
 * knobs and loader with defineSegmenter (definition.ts); adding a segmenter is
 * that file plus one line in SEGMENTERS below. Task configs
 * (`segmenter.name`), --segmenter on every command, policies, worker threads
 * (envs/segmenter-spec.ts) and the contract suite
 * (test/segmenters/contract.test.ts) all read this list.
 *
 *   sam     automatic mask generator on ONNX (bundled samstar-learned model by default)   ./sam/definition.ts
 *   blobs   LoG blob segmenter, weight-free                                                ./blobs/segmenter.ts
 *   otsu    smoothed Otsu threshold + connected components, weight-free baseline          ./otsu/segmenter.ts
 */
export const SEGMENTERS = [sam, blobs, otsu] as const satisfies readonly SegmenterDefinition[];

export type SegmenterName = (typeof SEGMENTERS)[number]['name'];
export const SEGMENTER_NAMES = SEGMENTERS.map((s) => s.name) as [SegmenterName, ...SegmenterName[]];

export function isSegmenterName(name: string): name is SegmenterName {
  return (SEGMENTER_NAMES as readonly string[]).includes(name);
}

/** A segmenter's definition by name; an unknown name is refused with the known ones. */
export function getSegmenter(name: string, where = 'segmenter'): SegmenterDefinition {
  const found = SEGMENTERS.find((s) => s.name === name);
  if (!found) throw new SamstarError('ARGUMENT_INVALID', `${where}: unknown segmenter "${name}"`, { hint: suggestName(name, SEGMENTER_NAMES) });
  return found;
}

/** The knob space of a segmenter by name, without loading its model. */
export function segmenterKnobSpace(name: string): KnobSpace {
  return getSegmenter(name).knobSpace();
}

/**
 * Load a segmenter by name: the one loader of the CLI, training, compare,
 * reports, serve and the envs' workers. Model files given to a weight-free
 * segmenter are refused (they would be silently ignored otherwise).
 */
export async function loadSegmenter(name: string, choice: SegmenterChoice = {}): Promise<Segmenter> {
  const definition = getSegmenter(name);
  if (!definition.usesModel && (choice.encoder !== undefined || choice.decoder !== undefined)) {
    throw new SamstarError('ARGUMENT_INVALID', `--encoder/--decoder are for a segmenter that runs a model; the ${name} segmenter has none`, {
      hint: `drop them, or use --segmenter ${SEGMENTERS.find((s) => s.usesModel)?.name ?? 'sam'}`,
    });
  }
  return definition.load(choice);
}

/** The segmenter block of a task (ResolvedTask / TaskConfig), as the options it is loaded with. */
export interface TaskSegmenterBlock {
  readonly name: string;
  readonly encoder?: string;
  readonly decoder?: string;
  readonly threads?: number;
  readonly device?: SegmenterChoice['device'];
}

/** A task's segmenter (train, policy training, compare, reports): one call, so every caller loads it alike. */
export function loadTaskSegmenter(block: TaskSegmenterBlock, extra: Omit<SegmenterChoice, 'encoder' | 'decoder' | 'intraOpThreads' | 'device'> = {}): Promise<Segmenter> {
  return loadSegmenter(block.name, { encoder: block.encoder, decoder: block.decoder, intraOpThreads: block.threads ?? 1, device: block.device, ...extra });
}

/** The registered segmenter `segmenter` is an instance of, with the plain options that rebuild it; undefined otherwise. */
export function rebuildOf(segmenter: Segmenter): { name: SegmenterName; options: PlainSegmenterOptions } | undefined {
  for (const definition of SEGMENTERS) {
    if (definition.name !== segmenter.name) continue;
    const options = definition.rebuildOptions(segmenter);
    if (options) return { name: definition.name, options };
  }
  return undefined;
}
