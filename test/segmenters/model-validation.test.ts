// Load-time validation of SAM-family ONNX exports: every bad export users bring is refused
// by loadModel with a SamstarError naming the file, the tensor, expected and found, before any image is read;
// the common naming variants load; an encoder with external weights loads from any working directory; and the
// CLI exits 2 (not 70) on a bad export. The bad exports are built from the official-architecture fixtures in
// ../shared/models/sam1-random with onnx-proto edits; the suite is skipped, saying so, where they are absent.
import { existsSync, mkdtempSync, mkdirSync, readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSynthDataset } from '../../src/data/synth-files.js';
import { generateSynthFrame } from '../../src/data/synth.js';
import { loadModel, type ModelFiles } from '../../src/segmenters/sam/onnx-model.js';
import { decodePrompt, encodeCrop } from '../../src/segmenters/sam/propose.js';
import { pruneToOutputs } from '../../src/segmenters/sam/prune-graph.js';
import { referenceModelFiles } from '../../src/segmenters/sam/segmenter.js';
import { SamstarError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { runCli } from '../cli/run-cli.js';
import { addNodes, appendToOutput, ELEM, externaliseWeights, HAVE_SAM1_FIXTURES, inputToZeros, readModel, renameValue, retypeInput, SAM1_FIXTURES, SAM1_SKIP_NOTE, setDims, sliceOutput, writeModel } from '../fixtures/onnx-edit.js';

const { onnx } = onnxProto;

if (!HAVE_SAM1_FIXTURES) console.warn(`model-validation.test.ts: ${SAM1_SKIP_NOTE}`);

const ENCODER = join(SAM1_FIXTURES, 'encoder-nchw.onnx');
const ENCODER_HWC = join(SAM1_FIXTURES, 'encoder-hwc.onnx');
const DECODER = join(SAM1_FIXTURES, 'decoder.onnx');
const frame = generateSynthFrame({ width: 120, height: 96, count: 6, diameter: { median: 12, sigma: 0.2 } }, new Rng(4), 'validation').frame;

/** loadModel's rejection, which must be a SamstarError. */
async function refusal(files: ModelFiles): Promise<SamstarError> {
  const error = await loadModel(files).then(
    async (m) => {
      await m.encoder.release();
      await m.decoder.release();
      return new Error('loaded');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SamstarError);
  // MODEL_INVALID is what the CLI maps to exit code 2 (test/cli/errors.test.ts).
  expect((error as SamstarError).code).toBe('MODEL_INVALID');
  return error as SamstarError;
}

describe.skipIf(!HAVE_SAM1_FIXTURES)(`bad SAM exports are refused at load (${HAVE_SAM1_FIXTURES ? 'official-architecture fixtures' : SAM1_SKIP_NOTE})`, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'samstar-bad-exports-'));
  });

  it('the unedited fixtures load (NCHW and HWC encoders, official decoder)', async () => {
    for (const encoder of [ENCODER, ENCODER_HWC]) {
      const model = await loadModel({ encoder, decoder: DECODER });
      expect(model.decoderLayout).toBe('sam');
      await model.encoder.release();
      await model.decoder.release();
    }
  });

  it('a single-mask decoder (low_res_masks [1,1,256,256]): names the output, the token count and the export flag', async () => {
    const model = readModel(DECODER);
    // What return_single_mask=True exports: token 0 only, shapes left symbolic as the tracer leaves them.
    for (const name of ['masks', 'iou_predictions', 'low_res_masks']) {
      sliceOutput(model, name, 1, 0, 1, name === 'iou_predictions' ? ['n', 1] : ['n', 1, 'h', 'w']);
    }
    const path = writeModel(model, join(dir, 'single-mask.onnx'));
    const error = await refusal({ encoder: ENCODER, decoder: path });
    expect(error.code).toBe('MODEL_INVALID');
    expect(error.message).toContain(path);
    expect(error.message).toMatch(/"(iou_predictions|low_res_masks)" has 1 mask token \(a single-mask export\)/);
    expect(error.message).toContain('expected 4');
    expect(error.hint).toContain('return_single_mask=False');
  });

  it('a single-mask decoder whose token count shape inference cannot see is caught by the probe run, with the shape it returned', async () => {
    const model = readModel(DECODER);
    // Slice ends computed from an input's value (has_mask_input + 1 = 1 at run time): onnxruntime cannot infer the token count.
    addNodes(
      model,
      [
        { opType: 'Cast', name: 'has_mask_int', input: ['has_mask_input'], output: ['has_mask_int'], attribute: [{ name: 'to', type: 2, i: ELEM.INT64 }] },
        { opType: 'Add', name: 'dyn_one', input: ['has_mask_int', 'one'], output: ['dyn_one'] },
      ],
      { zero: [0], one: [1], token_axis: [1] },
    );
    for (const name of ['masks', 'iou_predictions', 'low_res_masks']) appendToOutput(model, name, { opType: 'Slice', inputs: ['zero', 'dyn_one', 'token_axis'] }, name === 'iou_predictions' ? ['n', 't'] : ['n', 't', 'h', 'w']);
    const path = writeModel(model, join(dir, 'single-mask-runtime.onnx'));
    const error = await refusal({ encoder: ENCODER, decoder: path });
    expect(error.message).toContain(path);
    expect(error.message).toContain('"low_res_masks" has 1 mask token (a single-mask export): found [1,1,256,256]');
    expect(error.message).toContain('1 mask token');
  });

  it('a decoder with a fixed point count (point_coords [1,5,2]): names the input and the fixed size', async () => {
    const model = readModel(DECODER);
    setDims(model, 'point_coords', [1, 5, 2]);
    setDims(model, 'point_labels', [1, 5]);
    const path = writeModel(model, join(dir, 'five-points.onnx'));
    const error = await refusal({ encoder: ENCODER, decoder: path });
    expect(error.code).toBe('MODEL_INVALID');
    expect(error.message).toContain(path);
    expect(error.message).toContain('input "point_coords" has a fixed size 5 at axis 1 (shape [1,5,2])');
    expect(error.hint).toMatch(/dynamic/);
  });

  it('an encoder with a 32×32 embedding grid: names the output, expected and found', async () => {
    const model = readModel(ENCODER);
    appendToOutput(model, 'image_embeddings', { opType: 'AveragePool', attribute: [{ name: 'kernel_shape', type: 7, ints: [2, 2] }, { name: 'strides', type: 7, ints: [2, 2] }] }, [1, 256, 32, 32]);
    const path = writeModel(model, join(dir, 'grid32.onnx'));
    const error = await refusal({ encoder: path, decoder: DECODER });
    expect(error.code).toBe('MODEL_INVALID');
    expect(error.message).toContain(`encoder ${path}: output "image_embeddings" has shape [1,256,32,32], expected [1,256,64,64]`);
    expect(error.hint).toContain('64×64');
  });

  it('an encoder whose 32×32 grid shape inference cannot see is refused at its first run, not inside the decoder', async () => {
    const model = readModel(ENCODER);
    // Keep the first 32×32 cells, with the ends computed from the image's values (0 · ⌊min pixel⌋ + 32) so no shape inference sees them.
    addNodes(
      model,
      [
        { opType: 'ReduceMin', name: 'in_min', input: ['input_image'], output: ['in_min'], attribute: [{ name: 'keepdims', type: 2, i: 0 }] },
        { opType: 'Cast', name: 'in_min_int', input: ['in_min'], output: ['in_min_int'], attribute: [{ name: 'to', type: 2, i: ELEM.INT64 }] },
        { opType: 'Mul', name: 'in_zero', input: ['in_min_int', 'zero'], output: ['in_zero'] },
        { opType: 'Add', name: 'grid_hw', input: ['in_zero', 'thirty_two'], output: ['grid_hw'] },
      ],
      { zero: [0], thirty_two: [32, 32], zeros: [0, 0], hw_axes: [2, 3] },
    );
    appendToOutput(model, 'image_embeddings', { opType: 'Slice', inputs: ['zeros', 'grid_hw', 'hw_axes'] }, ['b', 'c', 'h', 'w']);
    const path = writeModel(model, join(dir, 'grid32-runtime.onnx'));
    const loaded = await loadModel({ encoder: path, decoder: DECODER });
    const error = await encodeCrop(loaded, frame, [0, 0, frame.width, frame.height]).catch((e: unknown) => e);
    await loaded.encoder.release();
    await loaded.decoder.release();
    expect(error).toBeInstanceOf(SamstarError);
    expect((error as Error).message).toContain(`encoder ${path}: output "image_embeddings" came back as [1,256,32,32], expected [1,256,64,64]`);
  });

  it('an encoder with 128 channels: names the output, expected and found', async () => {
    const model = readModel(ENCODER);
    sliceOutput(model, 'image_embeddings', 1, 0, 128, [1, 128, 64, 64]);
    const path = writeModel(model, join(dir, 'channels128.onnx'));
    const error = await refusal({ encoder: path, decoder: DECODER });
    expect(error.message).toContain('output "image_embeddings" has shape [1,128,64,64], expected [1,256,64,64]');
  });

  it('wrong dtypes: a decoder taking orig_im_size as int64 and an encoder taking uint8 pixels', async () => {
    const decoder = readModel(DECODER);
    retypeInput(decoder, 'orig_im_size', ELEM.INT64);
    const decoderPath = writeModel(decoder, join(dir, 'int64-size.onnx'));
    const d = await refusal({ encoder: ENCODER, decoder: decoderPath });
    expect(d.code).toBe('MODEL_INVALID');
    expect(d.message).toContain(`decoder ${decoderPath}: input "orig_im_size" has element type int64, expected float32`);

    const encoder = readModel(ENCODER_HWC);
    retypeInput(encoder, 'input_image', ELEM.UINT8);
    const encoderPath = writeModel(encoder, join(dir, 'uint8-image.onnx'));
    const e = await refusal({ encoder: encoderPath, decoder: DECODER });
    expect(e.message).toContain(`encoder ${encoderPath}: input "input_image" has element type uint8, expected float32`);
    expect(e.hint).toContain('Cast');
  });
});

describe.skipIf(!HAVE_SAM1_FIXTURES)(`naming variants and external weights load (${HAVE_SAM1_FIXTURES ? 'official-architecture fixtures' : SAM1_SKIP_NOTE})`, () => {
  let dir: string;
  let reference: Float32Array;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'samstar-variants-'));
    const model = await loadModel({ encoder: ENCODER, decoder: referenceModelFiles().decoder });
    reference = await encodeCrop(model, frame, [0, 0, frame.width, frame.height]);
    await model.encoder.release();
    await model.decoder.release();
  });

  // The encoder is what these tests are about: pair it with the tiny bundled decoder, which loads instantly.
  async function embeddingOf(encoder: string): Promise<{ embedding: Float32Array; layout: string; output: string }> {
    const model = await loadModel({ encoder, decoder: referenceModelFiles().decoder });
    try {
      return { embedding: await encodeCrop(model, frame, [0, 0, frame.width, frame.height]), layout: model.encoderLayout, output: model.encoderNames.output };
    } finally {
      await model.encoder.release();
      await model.decoder.release();
    }
  }

  it('an encoder output named `embeddings` loads and gives the same embedding', async () => {
    const model = readModel(ENCODER);
    renameValue(model, 'image_embeddings', 'embeddings');
    const got = await embeddingOf(writeModel(model, join(dir, 'embeddings-output.onnx')));
    expect(got.output).toBe('embeddings');
    expect(got.embedding).toEqual(reference);
  });

  it('an encoder input named `image` is the NCHW SAM layout (not labelled EdgeSAM) and gives the same embedding', async () => {
    const model = readModel(ENCODER);
    renameValue(model, 'input_image', 'image');
    const got = await embeddingOf(writeModel(model, join(dir, 'image-input.onnx')));
    expect(got.layout).toBe('sam-nchw');
    expect(got.embedding).toEqual(reference);
  });

  it('an encoder with its weights in an external .data file loads from a working directory that is not its folder', async () => {
    const modelDir = join(dir, 'vit-h-style');
    mkdirSync(modelDir);
    const path = join(modelDir, 'encoder.onnx');
    const dataName = externaliseWeights(readModel(ENCODER), path);
    expect(dataName).toBe('encoder.onnx.data');
    // The test process runs from the repository root, outside modelDir, where loading from bytes fails.
    expect(process.cwd()).not.toBe(modelDir);
    const fromBytes = await ort.InferenceSession.create(readFileSync(path)).then((s) => s.release().then(() => 'loaded'), (e: unknown) => String(e));
    expect(fromBytes).not.toBe('loaded');
    const got = await embeddingOf(path);
    expect(got.embedding).toEqual(reference);
  });
});

describe.skipIf(!HAVE_SAM1_FIXTURES)(`the EdgeSAM decoder layout loads (${HAVE_SAM1_FIXTURES ? 'built from the official decoder fixture' : SAM1_SKIP_NOTE})`, () => {
  it('image_embeddings, point_coords, point_labels → scores, masks: detected as edgesam, same answers as the official decoder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'samstar-edgesam-'));
    // EdgeSAM's contract: no mask input, no orig_im_size, low-res logits named `masks`, IoU named `scores`.
    const model = onnx.ModelProto.decode(pruneToOutputs(readFileSync(DECODER), ['iou_predictions', 'low_res_masks']).bytes);
    inputToZeros(model, 'mask_input');
    inputToZeros(model, 'has_mask_input');
    renameValue(model, 'iou_predictions', 'scores');
    renameValue(model, 'low_res_masks', 'masks');
    const path = writeModel(model, join(dir, 'edgesam-decoder.onnx'));
    const edge = await loadModel({ encoder: ENCODER, decoder: path }, { batchDecoding: false });
    const official = await loadModel({ encoder: ENCODER, decoder: DECODER }, { batchDecoding: false });
    try {
      expect(edge.decoderLayout).toBe('edgesam');
      expect(edge.encoderLayout).toBe('sam-nchw');
      const embedding = await encodeCrop(official, frame, [0, 0, frame.width, frame.height]);
      const prompt = { x: 40.5, y: 30.5 };
      const a = await decodePrompt(edge, embedding, prompt, frame.width, frame.height);
      const b = await decodePrompt(official, embedding, prompt, frame.width, frame.height);
      expect(a.iou).toEqual(b.iou);
      expect(a.lowRes).toEqual(b.lowRes);
    } finally {
      for (const m of [edge, official]) {
        await m.encoder.release();
        await m.decoder.release();
      }
    }
  });
});

describe.skipIf(!HAVE_SAM1_FIXTURES)(`the CLI on a bad export (${HAVE_SAM1_FIXTURES ? 'official-architecture fixtures' : SAM1_SKIP_NOTE})`, () => {
  let dir: string;
  let image: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'samstar-cli-bad-'));
    image = (await writeSynthDataset(join(dir, 'data'), { frames: 1, width: 96, height: 96, count: 4, diameter: { median: 12, sigma: 0.2 } }, 3)).images[0];
  });

  it('exits 2 with the file, tensor and hint; no stack trace, no "unexpected error", nothing written', () => {
    const model = readModel(DECODER);
    setDims(model, 'point_coords', [1, 5, 2]);
    setDims(model, 'point_labels', [1, 5]);
    const bad = writeModel(model, join(dir, 'five-points.onnx'));
    const out = join(dir, 'out');
    const result = runCli(['segment', image, '--encoder', ENCODER, '--decoder', bad, '--out', out]);
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toContain(bad);
    expect(result.stderr).toContain('point_coords');
    expect(result.stderr).toContain('hint:');
    expect(result.stderr).not.toContain('unexpected error');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
  });
});
