import { SamstarError } from '../util/errors.js';
import { SamSegmenter } from './sam/segmenter.js';
import type { Device } from './sam/devices.js';

export interface SegmenterChoice {
  readonly encoder?: string;
  readonly decoder?: string;
  readonly intraOpThreads?: number;
  /** Where onnxruntime runs the model (default cpu). */
  readonly device?: Device;
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
    device: choice.device,
    onDecodeProgress: choice.onDecodeProgress,
    embeddingCacheBytes: choice.embeddingCacheBytes,
    proposalCacheBytes: choice.proposalCacheBytes,
  });
}

// Segmenters by name (sam, blobs, …): loadSegmenter in registry.ts, the one list of them.
