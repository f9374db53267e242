import type { SegmenterChoice } from '../segmenters/load-segmenter.js';
import { getSegmenter, loadSegmenter } from '../segmenters/registry.js';
import type { Segmenter } from '../segmenters/types.js';
import { SamstarError } from '../util/errors.js';

/**
 * Stage-cache budget of the SAM segmenter when serving (default 160 MiB: a fifth
 * for embeddings, the rest for proposal summaries). A live stream brings a new
 * frame each time, so the caches only help when a frame comes back (the same
 * frame re-sent, or re-filtered with other knobs); the batch defaults (1.25 GiB)
 * would just let the server's memory grow to that size.
 */
export const SERVE_CACHE_MB = 160;

export function serveCacheBudgets(cacheMb: number = SERVE_CACHE_MB): { embeddingCacheBytes: number; proposalCacheBytes: number } {
  if (!(cacheMb > 0)) throw new SamstarError('ARGUMENT_INVALID', `--cache-mb must be positive, got ${cacheMb}`);
  const bytes = cacheMb * 2 ** 20;
  return { embeddingCacheBytes: Math.round(bytes / 5), proposalCacheBytes: Math.round((bytes * 4) / 5) };
}

/** The segmenter `samstar serve` runs: as `loadSegmenter`, with serving cache budgets for a segmenter that runs a model. */
export async function loadServeSegmenter(name: string, choice: SegmenterChoice, cacheMb?: number): Promise<Segmenter> {
  return loadSegmenter(name, getSegmenter(name, '--segmenter').usesModel ? { ...choice, ...serveCacheBudgets(cacheMb) } : choice);
}
