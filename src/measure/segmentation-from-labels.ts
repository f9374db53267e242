import { encodeRleWindow } from '../masks/rle.js';
import type { LabelImage } from '../masks/types.js';
import type { Instance, Segmentation } from '../masks/segmentation.js';
import { cropsFromLabels } from './crops.js';
import type { InstanceCrop } from './types.js';

/** The crop's mask without its one-pixel zero frame (what encodeRleWindow wants). */
export function cropWindow(crop: InstanceCrop): Uint8Array {
  const out = new Uint8Array(crop.rows * crop.cols);
  const stride = crop.cols + 2;
  for (let r = 0; r < crop.rows; r++) {
    for (let c = 0; c < crop.cols; c++) out[r * crop.cols + c] = crop.data[(r + 1) * stride + c + 1];
  }
  return out;
}

/**
 * A Segmentation with one RLE instance per label, as a segmenter would return
 * it (scores are placeholders: a label image carries none). For scoring label
 * images through the same path as segmenter output, in tests and benchmarks.
 */
export function segmentationFromLabels(label: LabelImage, extra: Instance[] = []): Segmentation {
  const { width, height } = label;
  const instances: Instance[] = cropsFromLabels(label).crops.map((crop) => ({
    segmentation: encodeRleWindow(cropWindow(crop), { x0: crop.col0, y0: crop.row0, w: crop.cols, h: crop.rows }, width, height),
    area: crop.area,
    bbox: [crop.col0, crop.row0, crop.cols - 1, crop.rows - 1],
    predicted_iou: 0.9,
    stability_score: 0.95,
    point_coords: [],
    crop_box: [0, 0, width, height],
  }));
  return { width, height, instances: [...instances, ...extra], knobs: {}, timings: {} };
}
