import type { Frame } from '../../image/frame.js';
import { encodeRleWindow } from '../../masks/rle.js';
import type { LabelImage } from '../../masks/types.js';
import { defineSegmenter } from '../definition.js';
import { KnobSpace, type KnobSpec, type KnobValues } from '../knobs.js';
import type { Instance, Segmentation, Segmenter } from '../types.js';
import { otsuSegment } from './otsu.js';

/**
 * Smoothed Otsu + connected components (otsu.ts) behind the Segmenter
 * contract: the classical weight-free baseline, tunable like any segmenter.
 * One stage (filter): it is a few passes over the frame, nothing to cache.
 */
export const OTSU_KNOBS: readonly KnobSpec[] = [
  { name: 'otsu_sigma', kind: 'float', min: 0, max: 8, default: 1.5, stage: 'filter', description: 'Gaussian σ in pixels before thresholding (0: none)' },
  { name: 'otsu_polarity', kind: 'choice', choices: ['auto', 'bright', 'dark'], default: 'auto', stage: 'filter', description: 'foreground side of the threshold; auto takes the smaller side' },
  { name: 'min_area', kind: 'int', min: 1, max: 100000, default: 10, stage: 'filter', description: 'drop components smaller than this many pixels' },
  { name: 'connectivity', kind: 'choice', choices: ['8', '4'], default: '8', stage: 'filter', description: 'pixel neighbourhood of a component' },
];

export class OtsuSegmenter implements Segmenter {
  readonly name = 'otsu';
  readonly knobs: KnobSpace = new KnobSpace(OTSU_KNOBS);

  async segment(frame: Frame, knobs: KnobValues): Promise<Segmentation> {
    const values = this.knobs.resolve(knobs);
    const started = performance.now();
    const result = otsuSegment(frame, {
      sigma: Number(values.otsu_sigma),
      polarity: values.otsu_polarity as 'auto' | 'bright' | 'dark',
      minArea: Number(values.min_area),
      connectivity: values.connectivity === '4' ? 4 : 8,
    });
    const instances = labelInstances(result.labels, result.count);
    const ms = performance.now() - started;
    return { width: frame.width, height: frame.height, instances, knobs: values, timings: { filter: ms, total: ms }, stats: { threshold: result.threshold, kept: instances.length } };
  }

  async dispose(): Promise<void> {
    // Nothing held between frames.
  }
}

/** Instances 1..count of a label image: each its box, area and RLE (encoded over its box only). */
function labelInstances(labels: LabelImage, count: number): Instance[] {
  const { width, height, data } = labels;
  const box = Array.from({ length: count + 1 }, () => ({ x0: Infinity, y0: Infinity, x1: -1, y1: -1, area: 0, sx: 0, sy: 0 }));
  for (let p = 0; p < data.length; p++) {
    const l = data[p];
    if (l === 0) continue;
    const x = p % width;
    const y = (p - x) / width;
    const b = box[l];
    b.x0 = Math.min(b.x0, x);
    b.x1 = Math.max(b.x1, x);
    b.y0 = Math.min(b.y0, y);
    b.y1 = Math.max(b.y1, y);
    b.area++;
    b.sx += x;
    b.sy += y;
  }
  const out: Instance[] = [];
  for (let l = 1; l <= count; l++) {
    const b = box[l];
    if (b.area === 0) continue;
    const w = b.x1 - b.x0 + 1;
    const h = b.y1 - b.y0 + 1;
    const mask = new Uint8Array(w * h);
    for (let j = 0; j < h; j++) for (let i = 0; i < w; i++) if (data[(b.y0 + j) * width + b.x0 + i] === l) mask[j * w + i] = 1;
    out.push({
      segmentation: encodeRleWindow(mask, { x0: b.x0, y0: b.y0, w, h }, width, height),
      area: b.area,
      bbox: [b.x0, b.y0, b.x1 - b.x0, b.y1 - b.y0],
      // A threshold has no confidence of its own: every component counts alike.
      predicted_iou: 1,
      stability_score: 1,
      point_coords: [[b.sx / b.area + 0.5, b.sy / b.area + 0.5]],
      crop_box: [0, 0, width, height],
    });
  }
  return out;
}

/** `otsu`: the classical weight-free baseline (smoothed Otsu threshold, connected components). */
export const otsu = defineSegmenter({
  name: 'otsu',
  description: 'smoothed Otsu threshold + connected components (weight-free baseline; never splits touching objects)',
  knobSpace: () => new KnobSpace(OTSU_KNOBS),
  usesModel: false,
  defaultTune: ['otsu_sigma', 'otsu_polarity'],
  example: {},
  load: async () => new OtsuSegmenter(),
  rebuildOptions: (segmenter) => (segmenter instanceof OtsuSegmenter ? {} : undefined),
});
