import { encode as encodePng } from 'fast-png';
import type { LabelImage } from '../masks/types.js';
import { SamstarError } from '../util/errors.js';

/**
 * A label image as 16-bit grey PNG bytes, in memory (the same encoding as
 * `writeLabelPng`, for `?labels=png` answers).
 */
export function encodeLabelPng(label: LabelImage): Uint8Array {
  const { width, height, data } = label;
  const out = new Uint16Array(width * height);
  for (let i = 0; i < out.length; i++) {
    const v = data[i];
    if (v > 65535) {
      throw new SamstarError('LABELS_INVALID', `label ${v} does not fit a 16-bit PNG (at most 65535)`, { hint: 'fewer instances per frame' });
    }
    out[i] = v;
  }
  return encodePng({ width, height, data: out, depth: 16, channels: 1 });
}
