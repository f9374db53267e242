import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { SamstarError } from '../../util/errors.js';
import { batchingWorks, probeEmbedding, withSymbolicBatch } from './decoder-batch.js';
import { ortMessage, probeDecoder, type DecoderHandle } from './decoder-run.js';
import { checkDecoderContract, checkEncoderContract } from './onnx-contract.js';
import { detectDecoderLayout, detectEncoderLayout, familyOf, type DecoderLayout, type EncoderLayout, type EncoderNames, type ModelFamily, type ValueInfo } from './onnx-layout.js';
import { pruneToOutputs } from './prune-graph.js';
import type { Device } from './devices.js';
import { providerFailure, providerOptions } from './providers.js';

export interface ModelFiles {
  readonly encoder: string;
  readonly decoder: string;
}

export interface LoadedModel {
  readonly files: ModelFiles;
  /** sha256 of the two .onnx files as given (external weight files are not hashed). */
  readonly sha256: { encoder: string; decoder: string };
  readonly encoderLayout: EncoderLayout;
  /** The encoder's image input and embedding output names (community exports vary). */
  readonly encoderNames: EncoderNames;
  readonly decoderLayout: DecoderLayout;
  readonly encoder: ort.InferenceSession;
  readonly decoder: ort.InferenceSession;
  /**
   * True when the decoder answers many prompts per call with answers identical
   * whatever the batch (checked at load, decoder-batch.ts); false: one prompt per call.
   */
  readonly batchDecoding: boolean;
  /** SAM 1 geometry (pad to a square, padding point by the caller) or SAM 2's (stretch, padding point in-graph); from the layouts. */
  readonly family: ModelFamily;
  /** Where the sessions run and with how many intra-op threads (so a worker can rebuild the same model). */
  readonly device: Device;
  readonly intraOpThreads: number;
}

export interface SessionSettings {
  /** onnxruntime intra-op threads; 0 lets onnxruntime decide. Set explicitly so runs are reproducible in speed. */
  readonly intraOpThreads?: number;
  /** Where onnxruntime runs the model (providers.ts); default cpu. */
  readonly device?: Device;
  /**
   * Prune the SAM decoder to `iou_predictions` + `low_res_masks` (default true):
   * the full-size `masks` output is rebuilt on the host only where needed.
   */
  readonly pruneDecoder?: boolean;
  /** Try batched decoding (default true); false keeps one prompt per decoder call. */
  readonly batchDecoding?: boolean;
}

function valueInfos(meta: readonly ort.InferenceSession.ValueMetadata[]): ValueInfo[] {
  return meta.map((m) => ({ name: m.name, shape: m.isTensor ? [...m.shape] : [], type: m.isTensor ? m.type : 'non-tensor' }));
}

function sessionOptions(settings: SessionSettings, path: string): ort.InferenceSession.SessionOptions {
  return { intraOpNumThreads: settings.intraOpThreads ?? 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', ...providerOptions(settings.device ?? 'cpu', path) };
}

function notReadable(role: string, path: string, cause: unknown): SamstarError {
  return new SamstarError('MODEL_NOT_FOUND', `${role} model file ${path} cannot be read (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`, {
    hint: `pass an existing ONNX file with --${role}`,
    cause,
  });
}

async function sha256File(path: string, role: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch (cause) {
    throw notReadable(role, path, cause);
  }
  return hash.digest('hex');
}

/**
 * A session opened from the file path, not from bytes: onnxruntime then finds
 * external weights (`model.onnx.data` next to the model, how encoders over
 * 2 GB such as ViT-H are stored) relative to the model's folder, whatever the
 * working directory. From bytes it resolves them against the working directory
 * and refuses paths that escape it.
 */
async function openSession(path: string, role: 'encoder' | 'decoder', settings: SessionSettings): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(path, sessionOptions(settings, path));
  } catch (cause) {
    if (cause instanceof SamstarError) throw cause;
    const device = providerFailure(settings.device ?? 'cpu', path, cause);
    if (device) throw device;
    throw new SamstarError('MODEL_INVALID', `${role} model file ${path} is not a loadable ONNX model: ${ortMessage(cause)}`, {
      hint: 'expected a SAM / MobileSAM / EdgeSAM / SAM 2 ONNX export (with its .data file next to it when the weights are stored externally)',
      cause,
    });
  }
}

/**
 * Load an encoder + decoder pair, detect their layouts and check them against
 * the contract samstar feeds (onnx-contract.ts), so a bad export is refused
 * here with the file, tensor, expected and found shape, not at the first image.
 */
export async function loadModel(files: ModelFiles, settings: SessionSettings = {}): Promise<LoadedModel> {
  const encoderSha = await sha256File(files.encoder, 'encoder');
  let decoderBytes: Buffer;
  try {
    decoderBytes = await readFile(files.decoder);
  } catch (cause) {
    throw notReadable('decoder', files.decoder, cause);
  }
  const decoderSha = createHash('sha256').update(decoderBytes).digest('hex');
  const encoder = await openSession(files.encoder, 'encoder', settings);
  const opened: ort.InferenceSession[] = [encoder];
  try {
    const encIn = valueInfos(encoder.inputMetadata);
    const encOut = valueInfos(encoder.outputMetadata);
    const { layout: encoderLayout, names: encoderNames } = detectEncoderLayout(files.encoder, encIn, encOut);
    checkEncoderContract(files.encoder, encoderLayout, encoderNames, encIn, encOut);

    const full = await openSession(files.decoder, 'decoder', settings);
    opened.push(full);
    const decIn = valueInfos(full.inputMetadata);
    const decOut = valueInfos(full.outputMetadata);
    const decoderLayout = detectDecoderLayout(files.decoder, decIn, decOut);
    checkFamilies(files, encoderLayout, decoderLayout);
    checkDecoderContract(files.decoder, decoderLayout, decIn, decOut);
    // What the decoder really returns (symbolic output shapes hide a single-mask export).
    await probeDecoder({ session: full, layout: decoderLayout, path: files.decoder }, probeEmbedding(familyOf(decoderLayout)), [{ x: 512.5, y: 512.5 }]);

    // Layouts with a full-size `masks` output next to `low_res_masks` lose it (the host rebuilds what it needs).
    const prunable = decoderLayout === 'sam' || decoderLayout === 'sam2-orig-size';
    const graph = prunable && (settings.pruneDecoder ?? true) ? prunedBytes(decoderBytes) : decoderBytes;
    let decoder = graph === decoderBytes ? full : ((await tryCreate(graph, settings, files.decoder)) ?? full);
    opened.push(decoder);
    let batchDecoding = false;
    if (settings.batchDecoding ?? true) {
      const batched = await batchedDecoder(graph, decoderLayout, files.decoder, settings);
      if (batched) {
        opened.push(batched);
        decoder = batched;
        batchDecoding = true;
      }
    }
    for (const s of new Set(opened)) if (s !== encoder && s !== decoder) await s.release();
    return { files, sha256: { encoder: encoderSha, decoder: decoderSha }, encoderLayout, encoderNames, decoderLayout, encoder, decoder, batchDecoding, family: familyOf(encoderLayout), device: settings.device ?? 'cpu', intraOpThreads: settings.intraOpThreads ?? 1 };
  } catch (error) {
    for (const s of new Set(opened)) await s.release().catch(() => undefined);
    throw error;
  }
}

/** A SAM 2 encoder feeds only a SAM 2 decoder (it also needs the high-resolution features), and a SAM 1-family encoder only a SAM 1-family decoder. */
function checkFamilies(files: ModelFiles, encoder: EncoderLayout, decoder: DecoderLayout): void {
  if (familyOf(encoder) === familyOf(decoder)) return;
  const name = (layout: EncoderLayout | DecoderLayout): string => (familyOf(layout) === 'sam2' ? 'SAM 2' : 'SAM 1-family');
  throw new SamstarError('MODEL_INVALID', `encoder ${files.encoder} is a ${name(encoder)} encoder (layout ${encoder}) but decoder ${files.decoder} is a ${name(decoder)} decoder (layout ${decoder})`, {
    hint: 'pass the encoder and decoder exported from the same model',
  });
}

/**
 * The decoder without its full-size `masks` branch, or the original bytes when
 * the graph can't be pruned (then the full decoder is used; results are the
 * same, only slower).
 */
function prunedBytes(bytes: Uint8Array): Uint8Array {
  try {
    return pruneToOutputs(bytes, ['iou_predictions', 'low_res_masks']).bytes;
  } catch {
    return bytes;
  }
}

/**
 * A session from rewritten bytes, or null (e.g. a decoder whose weights sit in an external file).
 * `quiet`: onnxruntime's own error log is silenced, for the batching probe whose failure is an
 * expected answer (the errors still reach samstar as exceptions).
 */
async function tryCreate(bytes: Uint8Array, settings: SessionSettings, path: string, quiet = false): Promise<ort.InferenceSession | null> {
  try {
    return await ort.InferenceSession.create(bytes, { ...sessionOptions(settings, path), ...(quiet ? { logSeverityLevel: 4 as const } : {}) });
  } catch {
    return null;
  }
}

/** The decoder with a symbolic batch axis when it passes the batching probe, else null. */
async function batchedDecoder(bytes: Uint8Array, layout: DecoderLayout, path: string, settings: SessionSettings): Promise<ort.InferenceSession | null> {
  let rewritten: Uint8Array;
  try {
    rewritten = withSymbolicBatch(bytes);
  } catch {
    return null;
  }
  const session = await tryCreate(rewritten, settings, path, true);
  if (!session) return null;
  const handle: DecoderHandle = { session, layout, path };
  if (await batchingWorks(handle)) return session;
  await session.release();
  return null;
}
