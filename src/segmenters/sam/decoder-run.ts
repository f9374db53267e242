import * as ort from 'onnxruntime-node';
import { SamstarError } from '../../util/errors.js';
import { checkDecoderAnswer, decoderOutputNames, SAM2_FEATURES } from './onnx-contract.js';
import { familyOf, type DecoderLayout, type ModelFamily } from './onnx-layout.js';
import { scaleCoords } from './preprocess.js';
import type { Prompt } from './prompts.js';
import { LOW_RES } from './upsample.js';

/** One decoder answer: predicted IoU and 256² low-res logits for the three multimask tokens (1, 2, 3). */
export interface DecoderAnswer {
  readonly iou: Float32Array;
  /** 3 planes of 256² logits, token 1 first. */
  readonly lowRes: Float32Array;
}

/** A decoder session with what is needed to feed it and to name it in errors. */
export interface DecoderHandle {
  readonly session: ort.InferenceSession;
  readonly layout: DecoderLayout;
  readonly path: string;
}

const PLANE = LOW_RES * LOW_RES;
const EMPTY_MASK_INPUT = new Float32Array(PLANE);

/**
 * Point (and box) in the 1024 frame with their labels. SAM 1: padding point
 * added when there is no box (its ONNX export leaves that to the caller).
 * SAM 2: never, its graph appends the padding point itself.
 */
export function promptTensors(prompt: Prompt, cropWidth: number, cropHeight: number, family: ModelFamily = 'sam1'): { coords: Float32Array; labels: Float32Array } {
  const [px, py] = scaleCoords(prompt.x, prompt.y, cropWidth, cropHeight, family);
  if (!prompt.box) return family === 'sam2' ? { coords: Float32Array.of(px, py), labels: Float32Array.of(1) } : { coords: Float32Array.of(px, py, 0, 0), labels: Float32Array.of(1, -1) };
  const [bx0, by0] = scaleCoords(prompt.box[0], prompt.box[1], cropWidth, cropHeight, family);
  const [bx1, by1] = scaleCoords(prompt.box[2], prompt.box[3], cropWidth, cropHeight, family);
  return { coords: Float32Array.of(px, py, bx0, by0, bx1, by1), labels: Float32Array.of(1, 2, 3) };
}

/** Points per prompt as fed to the decoder: a point (SAM 1: plus the padding point), or a point with a box's two corners. */
export function pointCount(prompt: Prompt, family: ModelFamily = 'sam1'): number {
  return prompt.box ? 3 : family === 'sam2' ? 1 : 2;
}

/** Floats of the embedding samstar keeps per crop: SAM 1's [1,256,64,64], or SAM 2's three encoder outputs end to end. */
export function embeddingLength(family: ModelFamily): number {
  return family === 'sam2' ? SAM2_FEATURES.reduce((n, f) => n + f.dims.reduce((a, b) => a * b, 1), 0) : 256 * 64 * 64;
}

let zeroMasks = new Float32Array(0);
/** `batch` empty mask inputs (one shared zero buffer, grown as needed). */
function emptyMasks(batch: number): Float32Array {
  if (zeroMasks.length < batch * PLANE) zeroMasks = new Float32Array(batch * PLANE);
  return zeroMasks.subarray(0, batch * PLANE);
}

/** (height, width) in the element type the variant's `orig_im_size` declares (int32 in ibaiGorordo-style exports). */
function sizeTensor(session: ort.InferenceSession, height: number, width: number): ort.Tensor {
  const meta = session.inputMetadata.find((m) => m.name === 'orig_im_size');
  const type = meta?.isTensor ? meta.type : 'int32';
  if (type === 'int64') return new ort.Tensor('int64', BigInt64Array.of(BigInt(height), BigInt(width)), [2]);
  if (type === 'float32') return new ort.Tensor('float32', Float32Array.of(height, width), [2]);
  return new ort.Tensor('int32', Int32Array.of(height, width), [2]);
}

/** SAM 2's three feature tensors, views into the embedding (image_embed, high_res_feats_0, high_res_feats_1). */
function sam2Features(embedding: Float32Array): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  let offset = 0;
  for (const f of SAM2_FEATURES) {
    const size = f.dims.reduce((a, b) => a * b, 1);
    feeds[f.name] = new ort.Tensor('float32', embedding.subarray(offset, offset + size), [...f.dims]);
    offset += size;
  }
  return feeds;
}

/**
 * One decoder call for `prompts` (all with the same point count) stacked along
 * the batch axis of point_coords / point_labels: [B,N,2] and [B,N]. The image
 * embedding, mask input and sizes stay batch 1 (the official graph broadcasts
 * them). A batch of one is the ordinary per-prompt call. The ONNX export does
 * not add the padding point that PyTorch's prompt encoder adds when there is
 * no box, so a point-only prompt gets (0, 0) with label −1; a box is given as
 * its two corners with labels 2 and 3 (and then no padding point). `masks` at
 * full size is not fetched: the host rebuilds what it needs from
 * `low_res_masks` (see upsample.ts).
 */
export async function runDecoder(
  decoder: DecoderHandle,
  embedding: Float32Array,
  prompts: readonly Prompt[],
  cropWidth: number,
  cropHeight: number,
  maskInputs?: readonly Float32Array[],
): Promise<DecoderAnswer[]> {
  const batch = prompts.length;
  const family = familyOf(decoder.layout);
  const n = pointCount(prompts[0], family);
  const coords = new Float32Array(batch * n * 2);
  const labels = new Float32Array(batch * n);
  prompts.forEach((prompt, b) => {
    if (pointCount(prompt, family) !== n) throw new Error(`runDecoder: prompts of one call must have the same point count (${n} and ${pointCount(prompt, family)})`);
    const t = promptTensors(prompt, cropWidth, cropHeight, family);
    coords.set(t.coords, b * n * 2);
    labels.set(t.labels, b * n);
  });
  const points = {
    point_coords: new ort.Tensor('float32', coords, [batch, n, 2]),
    point_labels: new ort.Tensor('float32', labels, [batch, n]),
  };
  if (maskInputs && (family !== 'sam2' || maskInputs.length !== batch)) throw new Error('runDecoder: mask inputs are fed to SAM 2 decoders only, one per prompt');
  const feeds: Record<string, ort.Tensor> =
    family === 'sam2' ? { ...sam2Features(embedding), ...points } : { image_embeddings: new ort.Tensor('float32', embedding, [1, 256, 64, 64]), ...points };
  if (family === 'sam2') {
    let masks = emptyMasks(batch);
    if (maskInputs) {
      masks = new Float32Array(batch * PLANE);
      maskInputs.forEach((m, b) => masks.set(m, b * PLANE));
    }
    // has_mask_input stays shape [1] whatever the batch: samexporter's graph multiplies it into a batch-1 broadcast (shape [B] fails in onnxruntime).
    const optional: Record<string, ort.Tensor> = {
      mask_input: new ort.Tensor('float32', masks, [batch, 1, LOW_RES, LOW_RES]),
      has_mask_input: new ort.Tensor('float32', Float32Array.of(maskInputs ? 1 : 0), [1]),
      orig_im_size: sizeTensor(decoder.session, cropHeight, cropWidth),
    };
    for (const name of decoder.session.inputNames) if (optional[name]) feeds[name] = optional[name];
  } else if (decoder.layout === 'sam') {
    const optional: Record<string, ort.Tensor> = {
      mask_input: new ort.Tensor('float32', EMPTY_MASK_INPUT, [1, 1, LOW_RES, LOW_RES]),
      has_mask_input: new ort.Tensor('float32', Float32Array.of(0), [1]),
      orig_im_size: new ort.Tensor('float32', Float32Array.of(cropHeight, cropWidth), [2]),
    };
    // A pruned decoder (onnx-model.ts) may no longer read some of these.
    for (const name of decoder.session.inputNames) if (optional[name]) feeds[name] = optional[name];
  }
  const [iouName, masksName] = decoderOutputNames(decoder.layout);
  const out = await decoder.session.run(feeds, [iouName, masksName]);
  const iou = out[iouName];
  const masks = out[masksName];
  checkDecoderAnswer(decoder.path, decoder.layout, batch, iou.dims, masks.dims);
  return prompts.map((_, b) => tokens123(iou.data as Float32Array, masks.data as Float32Array, masks.dims[1], b));
}

/** Tokens 1–3 of prompt `b` in a 4-token answer (token 0 is the single-mask output the generator does not use), or all of a 3-token one. */
function tokens123(scores: Float32Array, masks: Float32Array, tokens: number, b: number): DecoderAnswer {
  const first = b * tokens + (tokens === 4 ? 1 : 0);
  return {
    iou: scores.slice(first, first + 3),
    lowRes: masks.slice(first * PLANE, (first + 3) * PLANE),
  };
}

/** onnxruntime's first message line, for wrapping its errors into SamstarErrors. */
export function ortMessage(cause: unknown): string {
  return cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
}

/** A probe decoder call at load, turning onnxruntime's failures into an error that names the file. */
export async function probeDecoder(decoder: DecoderHandle, embedding: Float32Array, prompts: readonly Prompt[]): Promise<DecoderAnswer[]> {
  try {
    return await runDecoder(decoder, embedding, prompts, 1024, 1024);
  } catch (cause) {
    if (cause instanceof SamstarError) throw cause;
    const sam2 = familyOf(decoder.layout) === 'sam2';
    const fed = sam2 ? 'image_embed [1,256,64,64], high_res_feats_0 [1,32,256,256], high_res_feats_1 [1,64,128,128], point_coords [1,1,2]' : 'image_embeddings [1,256,64,64], point_coords [1,2,2]';
    throw new SamstarError('MODEL_INVALID', `decoder ${decoder.path} fails on a single-point prompt (${fed}): ${ortMessage(cause)}`, {
      hint: sam2
        ? 'expected samexporter\'s SAM 2 decoder contract (export_sam2.py: multimask_output=True, dynamic num_labels and num_points)'
        : 'expected the official SAM decoder contract (segment-anything scripts/export_onnx_model.py, return_single_mask=False, dynamic num_points)',
      cause,
    });
  }
}
