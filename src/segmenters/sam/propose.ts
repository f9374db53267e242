import * as ort from 'onnxruntime-node';
import type { Frame } from '../../image/frame.js';
import type { BoxXYXY } from '../../masks/types.js';
import type { LoadedModel } from './onnx-model.js';
import { preprocessHwc, preprocessNchw, scaleCoords } from './preprocess.js';
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
 * Decode one single-point prompt. The ONNX export does not add the padding point
 * that PyTorch's prompt encoder adds when there is no box, so we append (0, 0)
 * with label −1. `masks` at full size is not fetched: the host rebuilds what it
 * needs from `low_res_masks` (see upsample.ts), and `orig_im_size` only shapes
 * that unused output.
 */
export async function decodePoint(model: LoadedModel, embedding: Embedding, x: number, y: number, cropWidth: number, cropHeight: number): Promise<DecoderAnswer> {
  const [sx, sy] = scaleCoords(x, y, cropWidth, cropHeight);
  const feeds: Record<string, ort.Tensor> = {
    image_embeddings: new ort.Tensor('float32', embedding, [1, 256, 64, 64]),
    point_coords: new ort.Tensor('float32', Float32Array.of(sx, sy, 0, 0), [1, 2, 2]),
    point_labels: new ort.Tensor('float32', Float32Array.of(1, -1), [1, 2]),
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
