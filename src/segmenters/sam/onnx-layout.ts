import { SamstarError } from '../../util/errors.js';

/**
 * ONNX layouts people actually have for SAM-family models, recognised by their
 * input/output names (and, for the encoder input, its rank).
 *
 * The encoder layout says only how the image is fed: `sam-nchw` takes a
 * normalised, padded [1,3,1024,1024] tensor (SAM, MobileSAM and EdgeSAM
 * encoders alike: EdgeSAM names its input `image` but preprocesses like SAM),
 * `sam-hwc` takes [H,W,3] 0–255 and normalises in-graph (samexporter).
 * `sam2` is SAM 2 / 2.1 as samexporter exports it: a normalised [1,3,1024,1024]
 * image stretched to the square (no padding) → `image_embed` plus the two
 * high-resolution feature maps `high_res_feats_0` / `high_res_feats_1`.
 *
 * Decoders: `sam` is SAM 1's official export, `edgesam` EdgeSAM's; `sam2` is
 * samexporter's SAM 2 decoder (7 inputs → `masks` (256² logits), `iou_predictions`),
 * `sam2-orig-size` the variant with an `orig_im_size` input and a `low_res_masks`
 * output (ibaiGorordo-style scripts).
 */
export type EncoderLayout = 'sam-nchw' | 'sam-hwc' | 'sam2';
export type DecoderLayout = 'sam' | 'edgesam' | 'sam2' | 'sam2-orig-size';

/** SAM 1 (and its relatives: pad to a 1024 square, padding point from the caller) or SAM 2 (stretch to 1024², padding point in-graph). */
export type ModelFamily = 'sam1' | 'sam2';

export function familyOf(layout: EncoderLayout | DecoderLayout): ModelFamily {
  return layout === 'sam2' || layout === 'sam2-orig-size' ? 'sam2' : 'sam1';
}

export interface ValueInfo {
  readonly name: string;
  /** Dimensions, numbers or symbolic names; empty when unknown. */
  readonly shape: readonly (number | string)[];
  /** Element type as onnxruntime names it ('float32', 'int64', …); '' when unknown. */
  readonly type?: string;
}

/** Which graph names the encoder uses for its image input and its embedding output. */
export interface EncoderNames {
  readonly input: string;
  readonly output: string;
  /** SAM 2: the two high-resolution feature maps the decoder also reads (stride 4, stride 8). */
  readonly highRes?: readonly [string, string];
}

/** SAM 2's encoder outputs / decoder inputs besides the image embedding. */
export const SAM2_HIGH_RES = ['high_res_feats_0', 'high_res_feats_1'] as const;
export const SAM2_DECODER_INPUTS = ['image_embed', ...SAM2_HIGH_RES, 'point_coords', 'point_labels', 'mask_input', 'has_mask_input'];

export function describe(kind: string, path: string, inputs: readonly ValueInfo[], outputs: readonly ValueInfo[]): string {
  const list = (values: readonly ValueInfo[]): string =>
    values.map((v) => `${v.name}${v.shape.length ? `[${v.shape.join(',')}]` : ''}`).join(', ') || '(none)';
  return `${kind} ${path}: inputs ${list(inputs)}; outputs ${list(outputs)}`;
}

export const KNOWN_LAYOUTS_HINT =
  'known layouts: SAM/MobileSAM official export (encoder input_image → image_embeddings; decoder image_embeddings, point_coords, ' +
  'point_labels, mask_input, has_mask_input, orig_im_size → masks, iou_predictions, low_res_masks), EdgeSAM ' +
  '(encoder image → image_embeddings; decoder image_embeddings, point_coords, point_labels → scores, masks) and SAM 2 / 2.1 as samexporter exports it ' +
  '(encoder image → high_res_feats_0, high_res_feats_1, image_embed; decoder image_embed, high_res_feats_0, high_res_feats_1, point_coords, ' +
  'point_labels, mask_input, has_mask_input [, orig_im_size] → masks, iou_predictions [, low_res_masks])';

/**
 * Names community exporters give the encoder's embedding output. Any of them is
 * unambiguous as long as the encoder has exactly one of them.
 */
export const EMBEDDING_OUTPUT_NAMES = ['image_embeddings', 'embeddings', 'image_embedding', 'embedding'];

export function detectEncoderLayout(path: string, inputs: readonly ValueInfo[], outputs: readonly ValueInfo[]): { layout: EncoderLayout; names: EncoderNames } {
  const outNames = outputs.map((v) => v.name);
  if (outNames.some((n) => n.startsWith('high_res_feats') || n === 'backbone_fpn_0' || n === 'image_embed')) {
    const missing = ['image_embed', ...SAM2_HIGH_RES].filter((n) => !outNames.includes(n));
    if (missing.length === 0 && inputs.length === 1 && (inputs[0].shape.length === 4 || inputs[0].shape.length === 0)) {
      return { layout: 'sam2', names: { input: inputs[0].name, output: 'image_embed', highRes: SAM2_HIGH_RES } };
    }
    const what = missing.length ? `lacks ${missing.join(', ')}` : 'does not take one [1,3,1024,1024] image';
    throw new SamstarError('MODEL_LAYOUT_UNKNOWN', `${describe('encoder', path, inputs, outputs)} looks like a SAM 2 encoder but ${what}`, {
      hint: `samstar runs SAM 2 image encoders as samexporter exports them (export_sam2.py: outputs image_embed, high_res_feats_0, high_res_feats_1); ${KNOWN_LAYOUTS_HINT}`,
    });
  }
  const embeddingOutputs = outNames.filter((n) => EMBEDDING_OUTPUT_NAMES.includes(n));
  if (embeddingOutputs.length !== 1) {
    const what = embeddingOutputs.length === 0 ? 'has no embedding output' : `has several embedding outputs (${embeddingOutputs.join(', ')})`;
    throw new SamstarError('MODEL_LAYOUT_UNKNOWN', `${describe('encoder', path, inputs, outputs)} ${what}, so it matches no known encoder layout`, {
      hint: `the embedding output must be named one of ${EMBEDDING_OUTPUT_NAMES.join(', ')}; ${KNOWN_LAYOUTS_HINT}`,
    });
  }
  // One image input, whatever its name (input_image, image, images, x, …): its rank says the layout.
  if (inputs.length === 1) {
    const names = { input: inputs[0].name, output: embeddingOutputs[0] };
    const rank = inputs[0].shape.length;
    if (rank === 3) return { layout: 'sam-hwc', names };
    if (rank === 4 || rank === 0) return { layout: 'sam-nchw', names };
  }
  throw new SamstarError('MODEL_LAYOUT_UNKNOWN', `${describe('encoder', path, inputs, outputs)} matches no known encoder layout (expected one image input of rank 4 [1,3,1024,1024] or rank 3 [H,W,3])`, {
    hint: KNOWN_LAYOUTS_HINT,
  });
}

export const SAM_DECODER_INPUTS = ['image_embeddings', 'point_coords', 'point_labels', 'mask_input', 'has_mask_input', 'orig_im_size'];

export function detectDecoderLayout(path: string, inputs: readonly ValueInfo[], outputs: readonly ValueInfo[]): DecoderLayout {
  const inNames = new Set(inputs.map((v) => v.name));
  const outNames = new Set(outputs.map((v) => v.name));
  if (SAM_DECODER_INPUTS.every((n) => inNames.has(n)) && outNames.has('iou_predictions') && outNames.has('low_res_masks')) return 'sam';
  if (['image_embeddings', 'point_coords', 'point_labels'].every((n) => inNames.has(n)) && outNames.has('scores') && outNames.has('masks')) {
    return 'edgesam';
  }
  if (SAM2_DECODER_INPUTS.every((n) => inNames.has(n)) && outNames.has('iou_predictions') && outNames.has('masks')) {
    return inNames.has('orig_im_size') && outNames.has('low_res_masks') ? 'sam2-orig-size' : 'sam2';
  }
  if (inNames.has('image_embed') || inNames.has('high_res_feats_0')) {
    const missing = SAM2_DECODER_INPUTS.filter((n) => !inNames.has(n));
    const missingOut = ['masks', 'iou_predictions'].filter((n) => !outNames.has(n));
    const details = [missing.length ? `missing SAM 2 inputs: ${missing.join(', ')}` : '', missingOut.length ? `missing SAM 2 outputs: ${missingOut.join(', ')}` : ''].filter(Boolean).join('; ');
    throw new SamstarError('MODEL_LAYOUT_UNKNOWN', `${describe('decoder', path, inputs, outputs)} looks like a SAM 2 decoder but matches no known SAM 2 layout (${details})`, {
      hint: `samstar runs SAM 2 decoders as samexporter exports them (export_sam2.py); ${KNOWN_LAYOUTS_HINT}`,
    });
  }
  const missing = SAM_DECODER_INPUTS.filter((n) => !inNames.has(n));
  const missingOut = ['iou_predictions', 'low_res_masks'].filter((n) => !outNames.has(n));
  const details = [missing.length ? `missing SAM inputs: ${missing.join(', ')}` : '', missingOut.length ? `missing SAM outputs: ${missingOut.join(', ')}` : ''].filter(Boolean).join('; ');
  throw new SamstarError('MODEL_LAYOUT_UNKNOWN', `${describe('decoder', path, inputs, outputs)} matches no known decoder layout` + (details ? ` (${details})` : ''), {
    hint: KNOWN_LAYOUTS_HINT,
  });
}
