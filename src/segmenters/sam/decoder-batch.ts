import onnxProto from 'onnx-proto';
import type { DecoderAnswer, DecoderHandle } from './decoder-run.js';
import { embeddingLength, runDecoder } from './decoder-run.js';
import { familyOf, type ModelFamily } from './onnx-layout.js';
import type { Prompt } from './prompts.js';

const { onnx } = onnxProto;

/**
 * Batched decoding: many prompts per decoder call.
 *
 * The official SAM decoder export declares point_coords [1,N,2] and
 * point_labels [1,N] with the batch axis fixed at 1, although the graph it
 * traces (SamOnnxModel → MaskDecoder.predict_masks) is batch-agnostic: it
 * repeats the image embedding per prompt and broadcasts mask_input. So the
 * decoder bytes are rewritten with a symbolic batch axis on those two inputs
 * (and on the outputs), and the result is only trusted when a probe shows
 * that each prompt's answer does not depend on the batch it is in
 * (batchingWorks). Graphs that reshape with constants baked at batch 1 fail
 * the probe and are decoded one prompt per call, as before.
 */
export function withSymbolicBatch(modelBytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(modelBytes);
  const graph = model.graph;
  if (!graph) throw new Error('model has no graph');
  const free = (value: onnxProto.onnx.IValueInfoProto): void => {
    const dim = value.type?.tensorType?.shape?.dim?.[0];
    if (!dim) return;
    dim.dimValue = null;
    dim.dimParam = 'prompts';
  };
  for (const input of graph.input ?? []) if (input.name === 'point_coords' || input.name === 'point_labels') free(input);
  for (const output of graph.output ?? []) free(output);
  // Intermediate shapes recorded at export carry the batch-1 assumption; they are hints only, so drop them.
  graph.valueInfo = [];
  return onnx.ModelProto.encode(model).finish();
}

/** A deterministic, structured embedding so that different prompts get different answers in the probe (SAM 2: its three features end to end). */
export function probeEmbedding(family: ModelFamily = 'sam1'): Float32Array {
  const e = new Float32Array(embeddingLength(family));
  for (let i = 0; i < e.length; i++) e[i] = Math.sin(i * 0.7311) * 0.5 + Math.cos((i >> 6) * 0.173) * 0.5;
  return e;
}

function sameAnswer(a: DecoderAnswer, b: DecoderAnswer): boolean {
  if (a.iou.length !== b.iou.length || a.lowRes.length !== b.lowRes.length) return false;
  for (let i = 0; i < a.iou.length; i++) if (!Object.is(a.iou[i], b.iou[i])) return false;
  for (let i = 0; i < a.lowRes.length; i++) if (!Object.is(a.lowRes[i], b.lowRes[i])) return false;
  return true;
}

/**
 * True when `decoder` answers batches of 2 and more, and each prompt's answer
 * is bit-identical whatever batch (size, position, companions) it is in:
 * prompts (p0, p1, p2) in one call against (p2, p0) in another, for point
 * prompts and for box prompts. Any error counts as "no".
 *
 * Batches of one are not compared: on the official decoder a batch of one
 * gives logits ~1e-5 away from the same prompt in a larger batch (measured;
 * onnxruntime's CPU kernels can take another path when a matrix has a single
 * row), while all batches of two and more agree bit for bit. So a batched
 * decoder never runs a batch of one: decodePrompts pads it to two.
 */
export async function batchingWorks(decoder: DecoderHandle): Promise<boolean> {
  const embedding = probeEmbedding(familyOf(decoder.layout));
  const pointPrompts: Prompt[] = [
    { x: 200.5, y: 310.5 },
    { x: 701.5, y: 120.5 },
    { x: 455.5, y: 880.5 },
  ];
  const boxPrompts: Prompt[] = pointPrompts.map((p) => ({ ...p, box: [p.x - 40, p.y - 30, p.x + 35, p.y + 45] as const }));
  try {
    for (const [p0, p1, p2] of [pointPrompts, boxPrompts]) {
      const three = await runDecoder(decoder, embedding, [p0, p1, p2], 1024, 1024);
      const two = await runDecoder(decoder, embedding, [p2, p0], 1024, 1024);
      if (!sameAnswer(three[0], two[1]) || !sameAnswer(three[2], two[0])) return false;
      // A graph that ignored the prompt would pass the comparisons: its answers must differ between prompts.
      if (sameAnswer(three[0], three[1])) return false;
    }
    return true;
  } catch {
    return false;
  }
}
