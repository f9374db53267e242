import { SamstarError } from '../util/errors.js';
import { SamSegmenter } from './sam/segmenter.js';

export interface SegmenterChoice {
  readonly encoder?: string;
  readonly decoder?: string;
  readonly intraOpThreads?: number;
  readonly onDecodeProgress?: (done: number, total: number) => void;
}

/**
 * The SAM segmenter on the user's ONNX files, or on the bundled reference model
 * (a small stand-in with SAM's I/O contract, not SAM) when none are given.
 */
export async function loadSamSegmenter(choice: SegmenterChoice = {}): Promise<SamSegmenter> {
  if ((choice.encoder === undefined) !== (choice.decoder === undefined)) {
    throw new SamstarError('ARGUMENT_INVALID', `--encoder and --decoder go together (got only --${choice.encoder ? 'encoder' : 'decoder'})`, {
      hint: 'pass both ONNX files of a SAM / MobileSAM export, or neither to use the bundled reference model',
    });
  }
  return SamSegmenter.load({
    files: choice.encoder && choice.decoder ? { encoder: choice.encoder, decoder: choice.decoder } : undefined,
    intraOpThreads: choice.intraOpThreads,
    onDecodeProgress: choice.onDecodeProgress,
  });
}
