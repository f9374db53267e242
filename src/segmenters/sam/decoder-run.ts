import * as ort from 'onnxruntime-node';
import { SamstarError } from '../../util/errors.js';
import { checkDecoderAnswer, decoderOutputNames } from './onnx-contract.js';
import type { DecoderLayout } from './onnx-layout.js';
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

/** Point (and box) in the 1024 frame with their labels, padding point added when there is no box. */
export function promptTensors(prompt: Prompt, cropWidth: number, cropHeight: number): { coords: Float32Array; labels: Float32Array } {
  const [px, py] = scaleCoords(prompt.x, prompt.y, cropWidth, cropHeight);
  if (!prompt.box) return { coords: Float32Array.of(px, py, 0, 0), labels: Float32Array.of(1, -1) };
  const [bx0, by0] = scaleCoords(prompt.box[0], prompt.box[1], cropWidth, cropHeight);
  const [bx1, by1] = scaleCoords(prompt.box[2], prompt.box[3], cropWidth, cropHeight);
  return { coords: Float32Array.of(px, py, bx0, by0, bx1, by1), labels: Float32Array.of(1, 2, 3) };
}

/** Points per prompt as fed to the decoder: 2 for a point (plus padding point), 3 for a point with a box. */
export function pointCount(prompt: Prompt): number {
  return prompt.box ? 3 : 2;
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
export async function runDecoder(decoder: DecoderHandle, embedding: Float32Array, prompts: readonly Prompt[], cropWidth: number, cropHeight: number): Promise<DecoderAnswer[]> {
  const batch = prompts.length;
  const n = pointCount(prompts[0]);
  const coords = new Float32Array(batch * n * 2);
  const labels = new Float32Array(batch * n);
  prompts.forEach((prompt, b) => {
    if (pointCount(prompt) !== n) throw new Error(`runDecoder: prompts of one call must have the same point count (${n} and ${pointCount(prompt)})`);
    const t = promptTensors(prompt, cropWidth, cropHeight);
    coords.set(t.coords, b * n * 2);
    labels.set(t.labels, b * n);
  });
  const feeds: Record<string, ort.Tensor> = {
    image_embeddings: new ort.Tensor('float32', embedding, [1, 256, 64, 64]),
    point_coords: new ort.Tensor('float32', coords, [batch, n, 2]),
    point_labels: new ort.Tensor('float32', labels, [batch, n]),
  };
  if (decoder.layout === 'sam') {
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
    throw new SamstarError('MODEL_INVALID', `decoder ${decoder.path} fails on a single-point prompt (image_embeddings [1,256,64,64], point_coords [1,2,2]): ${ortMessage(cause)}`, {
      hint: 'expected the official SAM decoder contract (segment-anything scripts/export_onnx_model.py, return_single_mask=False, dynamic num_points)',
      cause,
    });
  }
}
