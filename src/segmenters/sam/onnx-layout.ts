import { SamstarError } from '../../util/errors.js';

/**
 * ONNX layouts people actually have for SAM-family models, recognised by their
 * input/output names (and, for the encoder input, its rank).
 */
export type EncoderLayout = 'sam-nchw' | 'sam-hwc' | 'edgesam';
export type DecoderLayout = 'sam' | 'edgesam';

export interface ValueInfo {
  readonly name: string;
  /** Dimensions, numbers or symbolic names; empty when unknown. */
  readonly shape: readonly (number | string)[];
}

function describe(kind: string, path: string, inputs: readonly ValueInfo[], outputs: readonly ValueInfo[]): string {
  const list = (values: readonly ValueInfo[]): string =>
    values.map((v) => `${v.name}${v.shape.length ? `[${v.shape.join(',')}]` : ''}`).join(', ') || '(none)';
  return `${kind} ${path}: inputs ${list(inputs)}; outputs ${list(outputs)}`;
}

const KNOWN_LAYOUTS_HINT =
  'known layouts: SAM/MobileSAM official export (encoder input_image → image_embeddings; decoder image_embeddings, point_coords, ' +
  'point_labels, mask_input, has_mask_input, orig_im_size → masks, iou_predictions, low_res_masks) and EdgeSAM ' +
  '(encoder image → image_embeddings; decoder image_embeddings, point_coords, point_labels → scores, masks)';

export function detectEncoderLayout(path: string, inputs: readonly ValueInfo[], outputs: readonly ValueInfo[]): EncoderLayout {
  const inNames = inputs.map((v) => v.name);
  const outNames = outputs.map((v) => v.name);
  if (outNames.some((n) => n.startsWith('high_res_feats') || n === 'backbone_fpn_0')) {
    throw new SamstarError('MODEL_LAYOUT_UNKNOWN', `${describe('encoder', path, inputs, outputs)} looks like a SAM 2 encoder, which samstar does not support yet`, {
      hint: KNOWN_LAYOUTS_HINT,
    });
  }
  if (!outNames.includes('image_embeddings')) {
    throw new SamstarError('MODEL_LAYOUT_UNKNOWN', `${describe('encoder', path, inputs, outputs)} has no "image_embeddings" output, so it matches no known encoder layout`, {
      hint: KNOWN_LAYOUTS_HINT,
    });
  }
  if (inNames.length === 1 && inNames[0] === 'input_image') {
    const rank = inputs[0].shape.length;
    if (rank === 3) return 'sam-hwc';
    if (rank === 4 || rank === 0) return 'sam-nchw';
  }
  if (inNames.length === 1 && inNames[0] === 'image') return 'edgesam';
  throw new SamstarError('MODEL_LAYOUT_UNKNOWN', `${describe('encoder', path, inputs, outputs)} matches no known encoder layout`, {
    hint: KNOWN_LAYOUTS_HINT,
  });
}

const SAM_DECODER_INPUTS = ['image_embeddings', 'point_coords', 'point_labels', 'mask_input', 'has_mask_input', 'orig_im_size'];

export function detectDecoderLayout(path: string, inputs: readonly ValueInfo[], outputs: readonly ValueInfo[]): DecoderLayout {
  const inNames = new Set(inputs.map((v) => v.name));
  const outNames = new Set(outputs.map((v) => v.name));
  if (SAM_DECODER_INPUTS.every((n) => inNames.has(n)) && outNames.has('iou_predictions') && outNames.has('low_res_masks')) return 'sam';
  if (['image_embeddings', 'point_coords', 'point_labels'].every((n) => inNames.has(n)) && outNames.has('scores') && outNames.has('masks')) {
    return 'edgesam';
  }
  const missing = SAM_DECODER_INPUTS.filter((n) => !inNames.has(n));
  throw new SamstarError('MODEL_LAYOUT_UNKNOWN', `${describe('decoder', path, inputs, outputs)} matches no known decoder layout` + (missing.length ? ` (missing SAM inputs: ${missing.join(', ')})` : ''), {
    hint: KNOWN_LAYOUTS_HINT,
  });
}
