import { join } from 'node:path';
import { SamstarError, suggestName } from '../../util/errors.js';
import { packageRoot } from '../../util/package-root.js';
import type { ModelFiles } from './onnx-model.js';

/**
 * The two models that ship in models/, both with SAM 1's exact ONNX contract and neither of them SAM.
 *
 * - `learned` (the default): samstar-learned, a small CNN trained on real micrographs and generated
 *   frames (models/learned/README.md has its card: data, figures, limits).
 * - `reference`: the hand-written contrast/distance graph (src/segmenters/reference/). Kept as the
 *   tiny, instant model the test suite runs the pipeline mechanics on.
 *
 * `SAMSTAR_MODEL=reference` (environment) picks the other one wherever no --encoder/--decoder is given.
 */
export const BUNDLED_MODELS = {
  learned: 'samstar-learned: a small CNN trained on micrographs (not SAM)',
  reference: 'samstar-ref: a hand-written contrast/distance graph (not SAM)',
} as const;

export type BundledModelName = keyof typeof BUNDLED_MODELS;
export const DEFAULT_MODEL: BundledModelName = 'learned';
const NAMES = Object.keys(BUNDLED_MODELS) as BundledModelName[];

/** The ONNX pair of a bundled model. */
export function bundledModelFiles(name: BundledModelName): ModelFiles {
  const dir = join(packageRoot(), 'models', name);
  return { encoder: join(dir, 'encoder.onnx'), decoder: join(dir, 'decoder.onnx') };
}

/** The bundled model to use when no files are given: SAMSTAR_MODEL if set (checked), else the default. */
export function defaultModelName(env: NodeJS.ProcessEnv = process.env): BundledModelName {
  const chosen = env.SAMSTAR_MODEL;
  if (chosen === undefined || chosen === '') return DEFAULT_MODEL;
  if ((NAMES as string[]).includes(chosen)) return chosen as BundledModelName;
  throw new SamstarError('ARGUMENT_INVALID', `SAMSTAR_MODEL="${chosen}" is not a bundled model (${NAMES.join(', ')})`, {
    hint: suggestName(chosen, NAMES),
  });
}
