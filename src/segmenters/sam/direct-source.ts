import { encodeRle } from '../../masks/rle.js';
import type { BoxXYXY, Rle } from '../../masks/types.js';
import type { CropInfo, ProposalSource } from './filter.js';
import { levelValue } from './levels.js';
import { removeSmallRegions, windowMaskBox, type WindowMask } from './small-regions.js';
import { LOW_RES, upsampleWindow, type CropTaps } from './upsample.js';

export interface DirectProposal {
  readonly crop: number;
  readonly iou: number;
  readonly point: [number, number];
  /** Logits at the crop's full resolution (crop width × height, row-major). */
  readonly logits: Float64Array;
}

/** Full-resolution logits of one 256² low-res plane over a whole crop. */
export function fullCropLogits(plane: Float32Array, taps: CropTaps): Float64Array {
  return upsampleWindow(plane, LOW_RES, 0, 0, taps, { x0: 0, y0: 0, w: taps.width, h: taps.height });
}

/**
 * The uncached, pixel-walking filter-stage source: every question is answered
 * from the full-resolution logits, as segment-anything does it. Slow; it exists
 * so tests can hold the cached path to the same records.
 */
export class DirectProposalSource implements ProposalSource {
  constructor(
    readonly imageWidth: number,
    readonly imageHeight: number,
    readonly crops: readonly CropInfo[],
    private readonly proposals: readonly DirectProposal[],
  ) {}

  proposalsOfCrop(crop: number): number[] {
    const out: number[] = [];
    this.proposals.forEach((p, i) => {
      if (p.crop === crop) out.push(i);
    });
    return out;
  }

  iou(i: number): number {
    return this.proposals[i].iou;
  }

  point(i: number): [number, number] {
    return this.proposals[i].point;
  }

  count(i: number, k: number): number {
    const t = levelValue(k);
    let n = 0;
    for (const v of this.proposals[i].logits) if (v > t) n++;
    return n;
  }

  private cropSize(i: number): { w: number; h: number; x0: number; y0: number } {
    const b = this.crops[this.proposals[i].crop].box;
    return { w: b[2] - b[0], h: b[3] - b[1], x0: b[0], y0: b[1] };
  }

  box(i: number, k: number): BoxXYXY {
    const t = levelValue(k);
    const { w, h } = this.cropSize(i);
    const logits = this.proposals[i].logits;
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -1;
    let y1 = -1;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (logits[y * w + x] > t) {
          x0 = Math.min(x0, x);
          y0 = Math.min(y0, y);
          x1 = Math.max(x1, x);
          y1 = Math.max(y1, y);
        }
      }
    }
    return x1 < 0 ? [0, 0, 0, 0] : [x0, y0, x1, y1];
  }

  /** The mask uncropped onto the whole image. */
  private imageMask(i: number, k: number): WindowMask {
    const t = levelValue(k);
    const { w, h, x0, y0 } = this.cropSize(i);
    const logits = this.proposals[i].logits;
    const data = new Uint8Array(this.imageWidth * this.imageHeight);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) if (logits[y * w + x] > t) data[(y + y0) * this.imageWidth + x + x0] = 1;
    }
    return { imageWidth: this.imageWidth, imageHeight: this.imageHeight, window: { x0: 0, y0: 0, w: this.imageWidth, h: this.imageHeight }, data };
  }

  smallRegions(i: number, k: number, area: number): { changed: boolean; box: BoxXYXY } {
    const result = removeSmallRegions(this.imageMask(i, k), area);
    return { changed: result.changed, box: windowMaskBox(result.mask) };
  }

  rle(i: number, k: number, area: number): Rle {
    let mask = this.imageMask(i, k);
    if (area > 0) mask = removeSmallRegions(mask, area).mask;
    return encodeRle({ width: this.imageWidth, height: this.imageHeight, data: mask.data });
  }
}
