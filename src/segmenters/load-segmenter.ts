import { SamstarError, suggestName } from '../util/errors.js';
import { BlobSegmenter } from './blobs/segmenter.js';
import type { Segmenter } from './types.js';
import { SamSegmenter } from './sam/segmenter.js';

export interface SegmenterChoice {
  readonly encoder?: string;
  readonly decoder?: string;
  readonly intraOpThreads?: number;
  readonly onDecodeProgress?: (done: number, total: number) => void;
  /** SAM's stage-cache budgets (default: SamSegmenter's batch budgets); `samstar serve` passes smaller ones. */
  readonly embeddingCacheBytes?: number;
  readonly proposalCacheBytes?: number;
}

/**
 * The SAM segmenter on the user's ONNX files, or on the default bundled model
 * (samstar-learned: SAM's I/O contract, not SAM) when none are given. The one
 * place that builds it from a choice of files (CLI, training, envs' workers, serve),
 * so the both-or-neither check and the options are written once.
 */
export async function loadSamSegmenter(choice: SegmenterChoice = {}): Promise<SamSegmenter> {
  if ((choice.encoder === undefined) !== (choice.decoder === undefined)) {
    throw new SamstarError('ARGUMENT_INVALID', `--encoder and --decoder go together (got only --${choice.encoder ? 'encoder' : 'decoder'})`, {
      hint: 'pass both ONNX files of a SAM / MobileSAM export, or neither to use the bundled model',
    });
  }
  return SamSegmenter.load({
    files: choice.encoder && choice.decoder ? { encoder: choice.encoder, decoder: choice.decoder } : undefined,
    intraOpThreads: choice.intraOpThreads,
    onDecodeProgress: choice.onDecodeProgress,
    embeddingCacheBytes: choice.embeddingCacheBytes,
    proposalCacheBytes: choice.proposalCacheBytes,
  });
}

export const SEGMENTER_NAMES = ['sam', 'blobs'] as const;
export type SegmenterName = (typeof SEGMENTER_NAMES)[number];

/** A segmenter by name: SAM on ONNX (bundled samstar-learned model by default) or the LoG blob segmenter. */
export async function loadSegmenter(name: string, choice: SegmenterChoice = {}): Promise<Segmenter> {
  if (name === 'sam') return loadSamSegmenter(choice);
  if (name === 'blobs') {
    if (choice.encoder || choice.decoder) {
      throw new SamstarError('ARGUMENT_INVALID', '--encoder/--decoder are for the sam segmenter; the blobs segmenter has no model', {
        hint: 'drop them, or use --segmenter sam',
      });
    }
    return new BlobSegmenter();
  }
  throw new SamstarError('ARGUMENT_INVALID', `unknown segmenter "${name}"`, { hint: suggestName(name, SEGMENTER_NAMES) });
}
