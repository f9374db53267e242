import { resolve } from 'node:path';
import type { RewardConfig } from '../../rewards/index.js';
import { rebuildOf } from '../segmenters/registry.js';
import { BUNDLED_MODELS, bundledModelFiles, type BundledModelName } from '../segmenters/sam/bundled-models.js';
import type { Segmenter } from '../segmenters/types.js';
import { SamstarError } from '../util/errors.js';
import { relativeToRoot } from './frames.js';
import type { SegmenterWire } from './protocol.js';

/**
 * The coordinator's segmenter and reward in the form jobs carry them.
 *
 * A segmenter travels as its registered name and, for a model segmenter, the
 * model: a bundled model by name (each worker uses its own install's copy, so
 * SAMSTAR_MODEL on the coordinator is what counts), or ONNX files by their path
 * relative to the data root (each worker resolves them under its own root).
 * Threads, device and cache budgets are the worker's own flags.
 */
export function segmenterWire(segmenter: Segmenter, dataRoot: string): SegmenterWire {
  const rebuild = rebuildOf(segmenter);
  if (!rebuild) {
    throw new SamstarError('ARGUMENT_INVALID', `the "${segmenter.name}" segmenter cannot run on remote workers: it is not a registered segmenter`, {
      hint: 'use a registered segmenter (samstar knobs lists them) with --redis, or evaluate in-process / with --workers',
    });
  }
  const { encoder, decoder } = rebuild.options;
  if (encoder === undefined || decoder === undefined) return { name: rebuild.name };
  for (const name of Object.keys(BUNDLED_MODELS) as BundledModelName[]) {
    const files = bundledModelFiles(name);
    if (resolve(files.encoder) === resolve(encoder) && resolve(files.decoder) === resolve(decoder)) return { name: rebuild.name, model: { bundled: name } };
  }
  return { name: rebuild.name, model: { encoder: relativeToRoot(dataRoot, encoder, 'the encoder'), decoder: relativeToRoot(dataRoot, decoder, 'the decoder') } };
}

/**
 * A validated reward config back in its config-file form (terms keyed by name,
 * each with its type and parameters), which the worker validates again with
 * parseRewardConfig: the same schemas as a rewards YAML.
 */
export function rewardWire(config: RewardConfig): Record<string, unknown> {
  const { source: _source, terms, ...rest } = config;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) if (value !== undefined) out[key] = value;
  out.terms = Object.fromEntries(terms.map((t) => [t.name, { type: t.type, ...(t.params as Record<string, unknown>) }]));
  return out;
}
