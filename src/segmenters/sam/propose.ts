import * as ort from 'onnxruntime-node';
import type { Frame } from '../../image/frame.js';
import type { BoxXYXY } from '../../masks/types.js';
import type { LoadedModel } from './onnx-model.js';
import { preprocessHwc, preprocessNchw, scaleCoords } from './preprocess.js';
import type { Prompt } from './prompts.js';
import { LOW_RES } from './upsample.js';

/** The image embedding of one crop. */
export type Embedding = Float32Array;

export async function encodeCrop(model: LoadedModel, frame: Frame, box: BoxXYXY): Promise<Embedding> {
  const input = model.encoderLayout === 'sam-hwc' ? preprocessHwc(frame, box) : preprocessNchw(frame, box);
  const name = model.encoder.inputNames[0];
  const result = await model.encoder.run({ [name]: new ort.Tensor('float32', input.data, input.dims) });
  const embedding = result.image_embeddings;
  if (!embedding || embedding.dims.length !== 4 || embedding.dims[1] !== 256) {
    throw new Error(`encoder ${model.files.encoder} returned image_embeddings of shape [${embedding?.dims.join(',')}], expected [1,256,64,64]`);
  }
  return embedding.data as Float32Array;
}

/** One decoder answer: predicted IoU and 256² low-res logits for the three multimask tokens (1, 2, 3). */
export interface DecoderAnswer {
  readonly iou: Float32Array;
  /** 3 planes of 256² logits, token 1 first. */
  readonly lowRes: Float32Array;
}

const PLANE = LOW_RES * LOW_RES;
const EMPTY_MASK_INPUT = new Float32Array(PLANE);

/**
 * Decode one prompt: a foreground point, plus an optional box. The ONNX export
 * does not add the padding point that PyTorch's prompt encoder adds when there
 * is no box, so a point-only prompt gets (0, 0) with label −1; a box is given as
 * its two corners with labels 2 and 3 (and then no padding point). `masks` at
 * full size is not fetched: the host rebuilds what it needs from
 * `low_res_masks` (see upsample.ts).
 */
export async function decodePrompt(model: LoadedModel, embedding: Embedding, prompt: Prompt, cropWidth: number, cropHeight: number): Promise<DecoderAnswer> {
  const { coords, labels } = promptTensors(prompt, cropWidth, cropHeight);
  const n = labels.length;
  const feeds: Record<string, ort.Tensor> = {
    image_embeddings: new ort.Tensor('float32', embedding, [1, 256, 64, 64]),
    point_coords: new ort.Tensor('float32', coords, [1, n, 2]),
    point_labels: new ort.Tensor('float32', labels, [1, n]),
  };
  if (model.decoderLayout === 'sam') {
    const optional: Record<string, ort.Tensor> = {
      mask_input: new ort.Tensor('float32', EMPTY_MASK_INPUT, [1, 1, LOW_RES, LOW_RES]),
      has_mask_input: new ort.Tensor('float32', Float32Array.of(0), [1]),
      orig_im_size: new ort.Tensor('float32', Float32Array.of(cropHeight, cropWidth), [2]),
    };
    // A pruned decoder (onnx-model.ts) may no longer read some of these.
    for (const name of model.decoder.inputNames) if (optional[name]) feeds[name] = optional[name];
    const out = await model.decoder.run(feeds, ['iou_predictions', 'low_res_masks']);
    return tokens123(out.iou_predictions, out.low_res_masks, model.files.decoder);
  }
  const out = await model.decoder.run(feeds, ['scores', 'masks']);
  return tokens123(out.scores, out.masks, model.files.decoder);
}

/** Point (and box) in the 1024 frame with their labels, padding point added when there is no box. */
export function promptTensors(prompt: Prompt, cropWidth: number, cropHeight: number): { coords: Float32Array; labels: Float32Array } {
  const [px, py] = scaleCoords(prompt.x, prompt.y, cropWidth, cropHeight);
  if (!prompt.box) return { coords: Float32Array.of(px, py, 0, 0), labels: Float32Array.of(1, -1) };
  const [bx0, by0] = scaleCoords(prompt.box[0], prompt.box[1], cropWidth, cropHeight);
  const [bx1, by1] = scaleCoords(prompt.box[2], prompt.box[3], cropWidth, cropHeight);
  return { coords: Float32Array.of(px, py, bx0, by0, bx1, by1), labels: Float32Array.of(1, 2, 3) };
}

/** Tokens 1–3 of a 4-token answer (token 0 is the single-mask output the generator does not use). */
function tokens123(iou: ort.Tensor | undefined, masks: ort.Tensor | undefined, path: string): DecoderAnswer {
  if (!iou || !masks || masks.dims.length !== 4 || masks.dims[2] !== LOW_RES || masks.dims[3] !== LOW_RES || masks.dims[1] < 3) {
    throw new Error(`decoder ${path} returned masks of shape [${masks?.dims.join(',')}], expected [1,4,256,256] low-res logits`);
  }
  const tokens = masks.dims[1];
  const first = tokens === 4 ? 1 : 0;
  const data = masks.data as Float32Array;
  const scores = iou.data as Float32Array;
  return {
    iou: scores.slice(first, first + 3),
    lowRes: data.slice(first * PLANE, (first + 3) * PLANE),
  };
}
