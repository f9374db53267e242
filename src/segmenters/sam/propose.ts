import * as ort from 'onnxruntime-node';
import type { Frame } from '../../image/frame.js';
import type { BoxXYXY } from '../../masks/types.js';
import { embeddingLength, pointCount, runDecoder, type DecoderAnswer, type DecoderHandle } from './decoder-run.js';
import { checkEmbeddingDims, checkSam2FeatureDims, SAM2_FEATURES } from './onnx-contract.js';
import type { LoadedModel } from './onnx-model.js';
import { preprocessHwc, preprocessNchw, preprocessStretched } from './preprocess.js';
import type { Prompt } from './prompts.js';
import { LOW_RES } from './upsample.js';

export { promptTensors, type DecoderAnswer } from './decoder-run.js';

/** The image embedding of one crop. */
export type Embedding = Float32Array;

export async function encodeCrop(model: LoadedModel, frame: Frame, box: BoxXYXY): Promise<Embedding> {
  if (model.encoderLayout === 'sam2') return encodeSam2(model, frame, box);
  const input = model.encoderLayout === 'sam-hwc' ? preprocessHwc(frame, box) : preprocessNchw(frame, box);
  const { input: inName, output: outName } = model.encoderNames;
  const result = await model.encoder.run({ [inName]: new ort.Tensor('float32', input.data, input.dims) }, [outName]);
  const embedding = result[outName];
  checkEmbeddingDims(model.files.encoder, outName, embedding.dims);
  return embedding.data as Float32Array;
}

/**
 * SAM 2: the crop stretched to 1024², and the encoder's three outputs kept as
 * one array (image_embed, high_res_feats_0, high_res_feats_1: what the decoder
 * reads, decoder-run.ts), so the embedding cache holds and sizes them as one.
 */
async function encodeSam2(model: LoadedModel, frame: Frame, box: BoxXYXY): Promise<Embedding> {
  const input = preprocessStretched(frame, box);
  const names = SAM2_FEATURES.map((f) => f.name);
  const result = await model.encoder.run({ [model.encoderNames.input]: new ort.Tensor('float32', input.data, input.dims) }, names);
  checkSam2FeatureDims(model.files.encoder, names.map((name) => ({ name, dims: result[name].dims })));
  const out = new Float32Array(embeddingLength('sam2'));
  let offset = 0;
  for (const name of names) {
    const data = result[name].data as Float32Array;
    out.set(data, offset);
    offset += data.length;
  }
  return out;
}

function handle(model: LoadedModel): DecoderHandle {
  return { session: model.decoder, layout: model.decoderLayout, path: model.files.decoder };
}

/** Decode one prompt: a foreground point, plus an optional box (see runDecoder for the tensors). */
export async function decodePrompt(model: LoadedModel, embedding: Embedding, prompt: Prompt, cropWidth: number, cropHeight: number): Promise<DecoderAnswer> {
  return (await decodePrompts(model, embedding, [prompt], cropWidth, cropHeight))[0];
}

/**
 * Decode many prompts of one crop, answers in prompt order. With a batched
 * decoder (model.batchDecoding) consecutive prompts with the same point count
 * go through one call; a lone prompt is padded with a copy of itself, because
 * only batches of two and more are bit-identical to each other (decoder-batch.ts).
 * Otherwise one call per prompt. The caller chooses the batch (points_per_batch).
 */
export async function decodePrompts(
  model: LoadedModel,
  embedding: Embedding,
  prompts: readonly Prompt[],
  cropWidth: number,
  cropHeight: number,
  maskInputs?: readonly Float32Array[],
): Promise<DecoderAnswer[]> {
  const decoder = handle(model);
  const answers: DecoderAnswer[] = [];
  if (!model.batchDecoding) {
    for (const [i, prompt] of prompts.entries()) answers.push(...(await runDecoder(decoder, embedding, [prompt], cropWidth, cropHeight, maskInputs && [maskInputs[i]])));
    return answers;
  }
  for (let start = 0; start < prompts.length; ) {
    let end = start + 1;
    while (end < prompts.length && pointCount(prompts[end], model.family) === pointCount(prompts[start], model.family)) end++;
    const run = prompts.slice(start, end);
    const masks = maskInputs?.slice(start, end);
    const padded = run.length === 1 ? [run[0], run[0]] : run;
    const paddedMasks = masks && (masks.length === 1 ? [masks[0], masks[0]] : masks);
    answers.push(...(await runDecoder(decoder, embedding, padded, cropWidth, cropHeight, paddedMasks)).slice(0, run.length));
    start = end;
  }
  return answers;
}

/**
 * SAM 2's `use_m2m` ("mask to mask") refinement, as far as a multimask-only
 * export allows: each candidate's 256² logits go back in as `mask_input` with
 * the same prompt, and the refined candidate is the best-scored of the three
 * answers (IoU and logits both replaced). The reference asks its decoder for a
 * single mask there (multimask_output=False: token 0 when it is stable, else
 * the best of tokens 1–3); samexporter's decoder drops token 0, so the
 * best-of-three is an approximation of that choice. Filters apply afterwards,
 * as in automatic_mask_generator.py.
 */
export async function refineMasks(model: LoadedModel, embedding: Embedding, prompts: readonly Prompt[], answers: readonly DecoderAnswer[], cropWidth: number, cropHeight: number): Promise<DecoderAnswer[]> {
  const plane = LOW_RES * LOW_RES;
  const repeated = prompts.flatMap((p) => [p, p, p]);
  const masks = answers.flatMap((a) => [0, 1, 2].map((t) => a.lowRes.subarray(t * plane, (t + 1) * plane)));
  const refined = await decodePrompts(model, embedding, repeated, cropWidth, cropHeight, masks);
  return answers.map((_, i) => {
    const iou = new Float32Array(3);
    const lowRes = new Float32Array(3 * plane);
    for (let t = 0; t < 3; t++) {
      const r = refined[i * 3 + t];
      const best = bestToken(r.iou);
      iou[t] = r.iou[best];
      lowRes.set(r.lowRes.subarray(best * plane, (best + 1) * plane), t * plane);
    }
    return { iou, lowRes };
  });
}

/** The token with the highest predicted IoU (the first on ties, as argmax). */
export function bestToken(iou: Float32Array): number {
  let best = 0;
  for (let t = 1; t < iou.length; t++) if (iou[t] > iou[best]) best = t;
  return best;
}
