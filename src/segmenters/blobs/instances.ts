import type { Blob } from '../../image/blobs.js';
import { labelComponents } from '../../masks/components.js';
import { encodeRleWindow } from '../../masks/rle.js';
import type { Instance } from '../types.js';

export interface BlobMaskOptions {
  readonly radiusScale: number;
  readonly refine: 'none' | 'threshold';
  /** The noise σ of the image: turns the response into a score. */
  readonly noise: number;
}

/**
 * One instance per blob: a disk of radius radiusScale·√2σ, or (refine =
 * threshold) the pixels within 1.5 radii that lie past the midpoint between the
 * blob's centre intensity and its surroundings, connected to the centre — so
 * elongated or irregular particles keep their shape. `predicted_iou` is the
 * response in noise units squashed to (0, 1); `stability_score` is 1 (a disk
 * has no logits to be unstable about).
 */
export function blobInstance(blob: Blob, grey: Float32Array, width: number, height: number, options: BlobMaskOptions): Instance | null {
  const r = Math.max(0.5, options.radiusScale * blob.radius);
  const reach = options.refine === 'threshold' ? 1.5 * r : r;
  const cx = blob.x + 0.5;
  const cy = blob.y + 0.5;
  const x0 = Math.max(0, Math.floor(cx - reach));
  const y0 = Math.max(0, Math.floor(cy - reach));
  const x1 = Math.min(width - 1, Math.ceil(cx + reach));
  const y1 = Math.min(height - 1, Math.ceil(cy + reach));
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const mask = new Uint8Array(w * h);
  if (options.refine === 'threshold') refineByThreshold(blob, grey, width, { x0, y0, w, h }, r, reach, mask);
  else {
    for (let j = 0; j < h; j++) {
      for (let i = 0; i < w; i++) if ((x0 + i + 0.5 - cx) ** 2 + (y0 + j + 0.5 - cy) ** 2 <= r * r) mask[j * w + i] = 1;
    }
  }
  let area = 0;
  let bx0 = Infinity;
  let by0 = Infinity;
  let bx1 = -1;
  let by1 = -1;
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      if (!mask[j * w + i]) continue;
      area++;
      bx0 = Math.min(bx0, i);
      bx1 = Math.max(bx1, i);
      by0 = Math.min(by0, j);
      by1 = Math.max(by1, j);
    }
  }
  if (area === 0) return null;
  const score = blob.response / Math.max(1e-9, options.noise);
  return {
    segmentation: encodeRleWindow(mask, { x0, y0, w, h }, width, height),
    area,
    bbox: [x0 + bx0, y0 + by0, bx1 - bx0, by1 - by0],
    predicted_iou: score / (score + 10),
    stability_score: 1,
    point_coords: [[cx, cy]],
    crop_box: [0, 0, width, height],
  };
}

function refineByThreshold(
  blob: Blob,
  grey: Float32Array,
  width: number,
  win: { x0: number; y0: number; w: number; h: number },
  r: number,
  reach: number,
  mask: Uint8Array,
): void {
  const cx = blob.x + 0.5;
  const cy = blob.y + 0.5;
  let inner = 0;
  let innerN = 0;
  const ring: number[] = [];
  for (let j = 0; j < win.h; j++) {
    for (let i = 0; i < win.w; i++) {
      const d2 = (win.x0 + i + 0.5 - cx) ** 2 + (win.y0 + j + 0.5 - cy) ** 2;
      const v = grey[(win.y0 + j) * width + win.x0 + i];
      if (d2 <= (0.5 * r) ** 2) {
        inner += v;
        innerN++;
      } else if (d2 >= (1.2 * r) ** 2 && d2 <= reach * reach) ring.push(v);
    }
  }
  const centre = innerN > 0 ? inner / innerN : grey[blob.y * width + blob.x];
  ring.sort((a, b) => a - b);
  const background = ring.length > 0 ? ring[Math.floor(ring.length / 2)] : centre;
  const cut = (centre + background) / 2;
  const bright = blob.polarity === 'bright';
  const candidate = new Uint8Array(win.w * win.h);
  for (let j = 0; j < win.h; j++) {
    for (let i = 0; i < win.w; i++) {
      const d2 = (win.x0 + i + 0.5 - cx) ** 2 + (win.y0 + j + 0.5 - cy) ** 2;
      const v = grey[(win.y0 + j) * width + win.x0 + i];
      if (d2 <= reach * reach && (bright ? v > cut : v < cut)) candidate[j * win.w + i] = 1;
    }
  }
  // Keep the component under the centre (or the nearest one when the centre pixel itself misses).
  const comps = labelComponents(candidate, win.w, win.h, 4);
  let keep = comps.labels[(blob.y - win.y0) * win.w + (blob.x - win.x0)];
  if (keep === 0) {
    let best = Infinity;
    for (let p = 0; p < candidate.length; p++) {
      if (!comps.labels[p]) continue;
      const d = ((p % win.w) + win.x0 + 0.5 - cx) ** 2 + (Math.floor(p / win.w) + win.y0 + 0.5 - cy) ** 2;
      if (d < best && d <= r * r) {
        best = d;
        keep = comps.labels[p];
      }
    }
  }
  if (keep === 0) return;
  for (let p = 0; p < mask.length; p++) mask[p] = comps.labels[p] === keep ? 1 : 0;
}
