import * as ort from 'onnxruntime-node';
import type { Frame } from '../../image/frame.js';
import type { BoxXYXY } from '../../masks/types.js';
import { pointCount, runDecoder, type DecoderAnswer, type DecoderHandle } from './decoder-run.js';
import { checkEmbeddingDims } from './onnx-contract.js';
import type { LoadedModel } from './onnx-model.js';
import { preprocessHwc, preprocessNchw } from './preprocess.js';
import type { Prompt } from './prompts.js';

export { promptTensors, type DecoderAnswer } from './decoder-run.js';

/** The image embedding of one crop. */
export type Embedding = Float32Array;

export async function encodeCrop(model: LoadedModel, frame: Frame, box: BoxXYXY): Promise<Embedding> {
  const input = model.encoderLayout === 'sam-hwc' ? preprocessHwc(frame, box) : preprocessNchw(frame, box);
  const { input: inName, output: outName } = model.encoderNames;
  const result = await model.encoder.run({ [inName]: new ort.Tensor('float32', input.data, input.dims) }, [outName]);
  const embedding = result[outName];
  checkEmbeddingDims(model.files.encoder, outName, embedding.dims);
  return embedding.data as Float32Array;
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
export async function decodePrompts(model: LoadedModel, embedding: Embedding, prompts: readonly Prompt[], cropWidth: number, cropHeight: number): Promise<DecoderAnswer[]> {
  const decoder = handle(model);
  const answers: DecoderAnswer[] = [];
  if (!model.batchDecoding) {
    for (const prompt of prompts) answers.push(...(await runDecoder(decoder, embedding, [prompt], cropWidth, cropHeight)));
    return answers;
  }
  for (let start = 0; start < prompts.length; ) {
    let end = start + 1;
    while (end < prompts.length && pointCount(prompts[end]) === pointCount(prompts[start])) end++;
    const run = prompts.slice(start, end);
    const padded = run.length === 1 ? [run[0], run[0]] : run;
    answers.push(...(await runDecoder(decoder, embedding, padded, cropWidth, cropHeight)).slice(0, run.length));
    start = end;
  }
  return answers;
}
