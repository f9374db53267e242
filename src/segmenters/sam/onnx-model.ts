import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { SamstarError } from '../../util/errors.js';
import { pruneToOutputs } from './prune-graph.js';
import { detectDecoderLayout, detectEncoderLayout, type DecoderLayout, type EncoderLayout, type ValueInfo } from './onnx-layout.js';

export interface ModelFiles {
  readonly encoder: string;
  readonly decoder: string;
}

export interface LoadedModel {
  readonly files: ModelFiles;
  readonly sha256: { encoder: string; decoder: string };
  readonly encoderLayout: EncoderLayout;
  readonly decoderLayout: DecoderLayout;
  readonly encoder: ort.InferenceSession;
  readonly decoder: ort.InferenceSession;
}

export interface SessionSettings {
  /** onnxruntime intra-op threads; 0 lets onnxruntime decide. Set explicitly so runs are reproducible in speed. */
  readonly intraOpThreads?: number;
  /**
   * Prune the SAM decoder to `iou_predictions` + `low_res_masks` (default true):
   * the full-size `masks` output is rebuilt on the host only where needed.
   */
  readonly pruneDecoder?: boolean;
}

function valueInfos(meta: readonly ort.InferenceSession.ValueMetadata[]): ValueInfo[] {
  return meta.map((m) => ({ name: m.name, shape: m.isTensor ? [...m.shape] : [] }));
}

function sessionOptions(settings: SessionSettings): ort.InferenceSession.SessionOptions {
  return { intraOpNumThreads: settings.intraOpThreads ?? 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
}

async function openSession(path: string, role: 'encoder' | 'decoder', settings: SessionSettings): Promise<{ session: ort.InferenceSession; sha256: string; bytes: Buffer }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new SamstarError('MODEL_NOT_FOUND', `${role} model file ${path} cannot be read (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`, {
      hint: `pass an existing ONNX file with --${role}`,
      cause,
    });
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  try {
    const session = await ort.InferenceSession.create(bytes, sessionOptions(settings));
    return { session, sha256, bytes };
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    throw new SamstarError('MODEL_INVALID', `${role} model file ${path} is not a loadable ONNX model: ${detail}`, {
      hint: 'expected a SAM / MobileSAM / EdgeSAM ONNX export',
      cause,
    });
  }
}

/** Load an encoder + decoder pair and detect their layouts; clear errors for missing, corrupt or unknown files. */
export async function loadModel(files: ModelFiles, settings: SessionSettings = {}): Promise<LoadedModel> {
  const enc = await openSession(files.encoder, 'encoder', settings);
  const dec = await openSession(files.decoder, 'decoder', settings);
  try {
    const encoderLayout = detectEncoderLayout(files.encoder, valueInfos(enc.session.inputMetadata), valueInfos(enc.session.outputMetadata));
    const decoderLayout = detectDecoderLayout(files.decoder, valueInfos(dec.session.inputMetadata), valueInfos(dec.session.outputMetadata));
    let decoder = dec.session;
    if (decoderLayout === 'sam' && (settings.pruneDecoder ?? true)) {
      const pruned = await prunedDecoder(dec.bytes, settings);
      if (pruned) {
        await dec.session.release();
        decoder = pruned;
      }
    }
    return {
      files,
      sha256: { encoder: enc.sha256, decoder: dec.sha256 },
      encoderLayout,
      decoderLayout,
      encoder: enc.session,
      decoder,
    };
  } catch (error) {
    await enc.session.release();
    await dec.session.release();
    throw error;
  }
}

/**
 * The decoder without its full-size `masks` branch, or null when the graph can't
 * be pruned (then the full decoder is used; results are the same, only slower).
 */
async function prunedDecoder(bytes: Buffer, settings: SessionSettings): Promise<ort.InferenceSession | null> {
  try {
    const pruned = pruneToOutputs(bytes, ['iou_predictions', 'low_res_masks']);
    return await ort.InferenceSession.create(pruned.bytes, sessionOptions(settings));
  } catch {
    return null;
  }
}
