import type { Blob, BlobOptions } from '../../image/blobs.js';
import type { KnobValues } from '../knobs.js';
import { buildPointGrid, generateCropBoxes, pointsPerLayer, type CropBox } from './grid.js';

/** One prompt in crop pixel coordinates (continuous: pixel i spans [i, i+1)). */
export interface Prompt {
  readonly x: number;
  readonly y: number;
  /** Optional box prompt (XYXY) bounding the mask, from the blob's size. */
  readonly box?: readonly [number, number, number, number];
}

export interface CropPlan {
  readonly crop: CropBox;
  readonly width: number;
  readonly height: number;
  readonly prompts: readonly Prompt[];
}

export function blobOptionsOf(values: KnobValues): BlobOptions {
  return {
    sigmaMin: Number(values.blob_sigma_min),
    sigmaMax: Math.max(Number(values.blob_sigma_min), Number(values.blob_sigma_max)),
    sigmaSteps: Number(values.blob_sigma_steps),
    threshold: Number(values.blob_threshold),
    thresholdMode: 'noise',
    overlap: Number(values.blob_overlap),
    polarity: values.blob_polarity as BlobOptions['polarity'],
    border: Number(values.blob_border),
  };
}

/**
 * The prompts of every crop: the reference grid (rows outer, x inner, scaled to
 * the crop), then — for blob strategies — one prompt per detected blob whose
 * centre lies in the crop, in the blobs' (y, x) order. Blob prompts go through
 * the same decoder, filter stage and caches as grid prompts.
 */
export function planPrompts(width: number, height: number, values: KnobValues, blobs: readonly Blob[]): CropPlan[] {
  const crops = generateCropBoxes(width, height, Number(values.crop_n_layers), Number(values.crop_overlap_ratio));
  const strategy = String(values.prompts);
  const perLayer = pointsPerLayer(Number(values.points_per_side), Number(values.crop_n_layers), Number(values.crop_n_points_downscale_factor));
  const withBox = values.blob_box_prompt === 'on';
  return crops.map((crop) => {
    const [x0, y0, x1, y1] = crop.box;
    const cw = x1 - x0;
    const ch = y1 - y0;
    const prompts: Prompt[] = [];
    if (strategy !== 'blobs') {
      const grid = buildPointGrid(perLayer[crop.layer]);
      for (let i = 0; i < grid.length; i += 2) prompts.push({ x: grid[i] * cw, y: grid[i + 1] * ch });
    }
    if (strategy !== 'grid') {
      for (const b of blobs) {
        if (b.x < x0 || b.x >= x1 || b.y < y0 || b.y >= y1) continue;
        const x = b.x + 0.5 - x0;
        const y = b.y + 0.5 - y0;
        const half = 2 * b.radius;
        prompts.push(
          withBox
            ? { x, y, box: [Math.max(0, x - half), Math.max(0, y - half), Math.min(cw, x + half), Math.min(ch, y + half)] }
            : { x, y },
        );
      }
    }
    return { crop, width: cw, height: ch, prompts };
  });
}
