import { SamstarError } from '../../util/errors.js';
import type { DecoderLayout, EncoderLayout, EncoderNames, ValueInfo } from './onnx-layout.js';

/**
 * Load-time checks of a SAM-family export against the contract samstar feeds
 * and reads: shapes and element types of every input and output it uses.
 *
 * Why at load time: a bad export (single-mask decoder, fixed point count,
 * 32×32 embedding grid, int64 sizes…) used to load fine and then crash inside
 * onnxruntime at the first image with a message that named neither the file
 * nor the tensor. A symbolic dimension (a name instead of a number) is
 * accepted here; the decoder's real output shapes are then checked by a probe
 * run at load (onnx-model.ts) and the encoder's at its first run
 * (checkEmbeddingDims).
 */

/** Expected dimension: a number, `N` for "must be symbolic" (any count), or '*' for "anything". */
type Want = number | 'N' | '*';

interface Expectation {
  readonly name: string;
  readonly dims: readonly Want[];
  /** What the dimensions mean, for the message: e.g. "[1,256,64,64] (batch, channels, grid, grid)". */
  readonly meaning?: string;
  readonly hint: string;
  /** Element types accepted (default float32 only). */
  readonly types?: readonly string[];
}

const FLOAT = 'float32';
const EMBEDDING_HINT =
  'SAM 1-family encoders (SAM ViT-B/L/H, MobileSAM, EdgeSAM, micro-sam) turn a 1024² input into a 64×64 grid of 256 channels; ' +
  're-export the encoder at 1024×1024 input, or check that encoder and decoder come from the same model';

const show = (dims: readonly (number | string)[]): string => `[${dims.map((d) => (typeof d === 'number' && d < 0 ? '?' : d)).join(',')}]`;
const showWant = (dims: readonly Want[]): string => `[${dims.map((d) => (d === '*' ? '?' : d)).join(',')}]`;

function fail(role: 'encoder' | 'decoder', path: string, what: string, hint: string): never {
  throw new SamstarError('MODEL_INVALID', `${role} ${path}: ${what}`, { hint });
}

/** Check one value's element type and rank and its numeric dimensions. */
function checkValue(role: 'encoder' | 'decoder', path: string, kind: 'input' | 'output', value: ValueInfo, want: Expectation): void {
  if (value.type && !(want.types ?? [FLOAT]).includes(value.type)) {
    fail(role, path, `${kind} "${value.name}" has element type ${value.type}, expected ${(want.types ?? [FLOAT]).join(' or ')}`, `${want.hint}; re-export with float32 ${kind}s (samstar feeds and reads float32 tensors)`);
  }
  if (value.shape.length === 0) return; // rank unknown to onnxruntime: the probe run checks it
  const expected = `expected ${showWant(want.dims)}${want.meaning ? ` ${want.meaning}` : ''}`;
  if (value.shape.length !== want.dims.length) fail(role, path, `${kind} "${value.name}" has shape ${show(value.shape)}, ${expected}`, want.hint);
  want.dims.forEach((w, i) => {
    const found = value.shape[i];
    const numeric = typeof found === 'number' && found > 0;
    if (w === 'N' && numeric) {
      fail(role, path, `${kind} "${value.name}" has a fixed size ${found} at axis ${i} (shape ${show(value.shape)}), ${expected} with a dynamic point count`, want.hint);
    }
    if (typeof w === 'number' && numeric && found !== w) fail(role, path, `${kind} "${value.name}" has shape ${show(value.shape)}, ${expected}`, want.hint);
  });
}

const EMBEDDING: Omit<Expectation, 'name'> = { dims: [1, 256, 64, 64], meaning: '(batch, 256 channels, 64×64 grid)', hint: EMBEDDING_HINT };

const SAM2_HINT = 'SAM 2 / 2.1 image encoders as samexporter exports them (export_sam2.py) take a normalised [1,3,1024,1024] image; re-export at 1024×1024';

/** SAM 2's three encoder outputs (= decoder inputs): the embedding and the two high-resolution feature maps. */
export const SAM2_FEATURES: readonly { readonly name: string; readonly dims: readonly [1, number, number, number] }[] = [
  { name: 'image_embed', dims: [1, 256, 64, 64] },
  { name: 'high_res_feats_0', dims: [1, 32, 256, 256] },
  { name: 'high_res_feats_1', dims: [1, 64, 128, 128] },
];

function checkSam2Features(role: 'encoder' | 'decoder', path: string, kind: 'input' | 'output', values: readonly ValueInfo[]): void {
  for (const f of SAM2_FEATURES) {
    checkValue(role, path, kind, values.find((v) => v.name === f.name)!, { name: f.name, dims: f.dims, meaning: '(batch, channels, grid, grid)', hint: SAM2_HINT });
  }
}

export function checkEncoderContract(path: string, layout: EncoderLayout, names: EncoderNames, inputs: readonly ValueInfo[], outputs: readonly ValueInfo[]): void {
  const input = inputs.find((v) => v.name === names.input)!;
  if (layout === 'sam2') {
    checkValue('encoder', path, 'input', input, { name: input.name, dims: [1, 3, 1024, 1024], meaning: '(batch, RGB, height, width)', hint: SAM2_HINT });
    checkSam2Features('encoder', path, 'output', outputs);
    return;
  }
  const output = outputs.find((v) => v.name === names.output)!;
  const imageHint =
    layout === 'sam-hwc'
      ? 'the [H,W,3] layout takes float32 RGB 0–255 with the long side 1024 (samexporter); an export taking uint8 needs a Cast to float32 before it is used here'
      : 'the NCHW layout takes a float32 [1,3,1024,1024] image, already normalised and padded (official / MobileSAM / EdgeSAM encoder exports)';
  checkValue('encoder', path, 'input', input, {
    name: input.name,
    dims: layout === 'sam-hwc' ? ['*', '*', 3] : [1, 3, 1024, 1024],
    meaning: layout === 'sam-hwc' ? '(height, width, RGB)' : '(batch, RGB, height, width)',
    hint: imageHint,
  });
  checkValue('encoder', path, 'output', output, { name: output.name, ...EMBEDDING });
}

const POINT_HINT =
  'samstar sends 2 points per prompt (the point plus the (0,0) padding point) or 3 (the point plus two box corners): ' +
  'export the decoder with a dynamic number of points (the official scripts/export_onnx_model.py sets dynamic_axes on num_points)';
const MASK_HINT =
  'the automatic generator needs the multimask tokens: export with return_single_mask=False (official export_onnx_model.py without --return-single-mask)';
const DECODER_INPUT_HINT = 'the official SAM decoder export (segment-anything scripts/export_onnx_model.py) has these exact inputs';

const SAM2_DECODER_HINT = 'samexporter\'s SAM 2 decoder (export_sam2.py, multimask_output=True) has these inputs, with a dynamic number of prompts and points';

/** Static checks of a decoder's inputs and outputs; the probe run (checkDecoderAnswer) checks what stays symbolic. */
export function checkDecoderContract(path: string, layout: DecoderLayout, inputs: readonly ValueInfo[], outputs: readonly ValueInfo[]): void {
  const sam2 = layout === 'sam2' || layout === 'sam2-orig-size';
  if (sam2) checkSam2Features('decoder', path, 'input', inputs);
  const wantIn: Expectation[] = [
    ...(sam2 ? [] : [{ name: 'image_embeddings', ...EMBEDDING }]),
    { name: 'point_coords', dims: ['*', 'N', 2], meaning: '(batch, points, xy)', hint: POINT_HINT },
    { name: 'point_labels', dims: ['*', 'N'], meaning: '(batch, points)', hint: POINT_HINT },
  ];
  if (sam2) {
    wantIn.push({ name: 'mask_input', dims: ['*', 1, 256, 256], hint: SAM2_DECODER_HINT }, { name: 'has_mask_input', dims: ['*'], hint: SAM2_DECODER_HINT });
    if (layout === 'sam2-orig-size') wantIn.push({ name: 'orig_im_size', dims: [2], meaning: '(height, width)', hint: SAM2_DECODER_HINT, types: ['int32', 'int64', FLOAT] });
  }
  if (layout === 'sam') {
    wantIn.push(
      { name: 'mask_input', dims: [1, 1, 256, 256], hint: DECODER_INPUT_HINT },
      { name: 'has_mask_input', dims: [1], hint: DECODER_INPUT_HINT },
      { name: 'orig_im_size', dims: [2], meaning: '(height, width)', hint: DECODER_INPUT_HINT },
    );
  }
  for (const want of wantIn) checkValue('decoder', path, 'input', inputs.find((v) => v.name === want.name)!, want);
  const [iouName, masksName] = decoderOutputNames(layout);
  checkValue('decoder', path, 'output', outputs.find((v) => v.name === iouName)!, { name: iouName, dims: ['*', '*'], hint: MASK_HINT });
  checkValue('decoder', path, 'output', outputs.find((v) => v.name === masksName)!, { name: masksName, dims: ['*', '*', 256, 256], meaning: '(batch, mask tokens, 256, 256)', hint: MASK_HINT });
  const tokens = [outputs.find((v) => v.name === iouName)!.shape[1], outputs.find((v) => v.name === masksName)!.shape[1]];
  for (const [i, t] of tokens.entries()) {
    if (typeof t === 'number' && t > 0) checkTokenCount(path, i === 0 ? iouName : masksName, t, i === 0 ? `[?,${t}]` : `[?,${t},256,256]`);
  }
}

/** The decoder outputs samstar reads: predicted IoU and 256² low-res logits. */
export function decoderOutputNames(layout: DecoderLayout): [string, string] {
  if (layout === 'sam2') return ['iou_predictions', 'masks'];
  return layout === 'sam' || layout === 'sam2-orig-size' ? ['iou_predictions', 'low_res_masks'] : ['scores', 'masks'];
}

/** 4 tokens (official: single-mask token 0, multimask tokens 1–3) or the 3 multimask tokens alone. */
function checkTokenCount(path: string, name: string, tokens: number, found: string): void {
  if (tokens === 4 || tokens === 3) return;
  const what = tokens === 1 ? ' (a single-mask export)' : '';
  fail('decoder', path, `output "${name}" has ${tokens} mask token${tokens === 1 ? '' : 's'}${what}: found ${found}, expected 4 (or the 3 multimask tokens) per prompt`, MASK_HINT);
}

/** Check the shapes of a probe run's outputs for `batch` prompts. */
export function checkDecoderAnswer(path: string, layout: DecoderLayout, batch: number, iouDims: readonly number[], masksDims: readonly number[]): void {
  const [iouName, masksName] = decoderOutputNames(layout);
  if (masksDims.length !== 4 || masksDims[2] !== 256 || masksDims[3] !== 256) {
    fail('decoder', path, `output "${masksName}" came back as ${show(masksDims)}, expected [${batch},4,256,256] low-res logits`, MASK_HINT);
  }
  checkTokenCount(path, masksName, masksDims[1], show(masksDims));
  if (iouDims.length !== 2 || iouDims[1] !== masksDims[1]) {
    fail('decoder', path, `output "${iouName}" came back as ${show(iouDims)}, expected [${batch},${masksDims[1]}] (one score per mask token)`, MASK_HINT);
  }
  if (masksDims[0] !== batch || iouDims[0] !== batch) {
    fail('decoder', path, `outputs came back for ${masksDims[0]} prompt(s) (${masksName} ${show(masksDims)}), expected ${batch}`, 'the decoder must answer one prompt per batch entry');
  }
}

/** A SAM 2 encoder's three outputs at run time (their declared shapes are symbolic in samexporter's exports). */
export function checkSam2FeatureDims(path: string, got: readonly { name: string; dims: readonly number[] }[]): void {
  got.forEach(({ name, dims }, i) => {
    const want = SAM2_FEATURES[i].dims;
    if (dims.length !== 4 || dims.some((d, k) => d !== want[k])) fail('encoder', path, `output "${name}" came back as ${show(dims)}, expected ${show(want)}`, SAM2_HINT);
  });
}

/** The encoder's embedding at run time: catches what a symbolic output shape hid at load. */
export function checkEmbeddingDims(path: string, name: string, dims: readonly number[]): void {
  const ok = dims.length === 4 && dims[0] === 1 && dims[1] === 256 && dims[2] === 64 && dims[3] === 64;
  if (!ok) fail('encoder', path, `output "${name}" came back as ${show(dims)}, expected [1,256,64,64] (batch, 256 channels, 64×64 grid)`, EMBEDDING_HINT);
}
