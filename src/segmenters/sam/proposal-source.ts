import { encodeRleWindow } from '../../masks/rle.js';
import type { BoxXYXY, Rle } from '../../masks/types.js';
import type { CropInfo, ProposalSource } from './filter.js';
import { levelValue } from './levels.js';
import { proposalBytes, type Proposal } from './proposal.js';
import { removeSmallRegions, windowMaskBox, type WindowMask } from './small-regions.js';
import { upsampleWindow, type CropTaps } from './upsample.js';

export interface CropProposals {
  readonly crop: CropInfo;
  readonly taps: CropTaps;
  readonly proposals: readonly Proposal[];
}

/**
 * The cached filter-stage source: answers counts and boxes from proposal
 * summaries; touches pixels only for masks that survive (small-region rule and
 * RLE), and remembers those answers per (level, area) so repeated filter
 * passes with the same mask threshold cost nothing there either.
 */
export class SummaryProposalSource implements ProposalSource {
  readonly crops: CropInfo[];
  private readonly all: { crop: number; proposal: Proposal }[] = [];
  private readonly ranges: Int32Array[] = [];
  private readonly materialised = new Map<string, { changed: boolean; box: BoxXYXY; rle?: Rle; mask: WindowMask }>();
  private readonly boxes = new Map<number, { k: number; box: BoxXYXY }>();

  constructor(
    readonly imageWidth: number,
    readonly imageHeight: number,
    private readonly perCrop: readonly CropProposals[],
  ) {
    this.crops = perCrop.map((c) => c.crop);
    perCrop.forEach((c, ci) => {
      const start = this.all.length;
      for (const p of c.proposals) this.all.push({ crop: ci, proposal: p });
      this.ranges.push(Int32Array.from({ length: c.proposals.length }, (_, k) => start + k));
    });
  }

  get size(): number {
    return this.all.length;
  }

  /** Bytes held by the summaries (for the cache budget). */
  get bytes(): number {
    let total = 0;
    for (const { proposal } of this.all) total += proposalBytes(proposal);
    return total;
  }

  proposalsOfCrop(crop: number): Int32Array {
    return this.ranges[crop];
  }

  iou(i: number): number {
    return this.all[i].proposal.iou;
  }

  point(i: number): [number, number] {
    return this.all[i].proposal.point;
  }

  count(i: number, k: number): number {
    return this.all[i].proposal.summary().counts[k];
  }

  box(i: number, k: number): BoxXYXY {
    const cached = this.boxes.get(i);
    if (cached && cached.k === k) return cached.box;
    const p = this.all[i].proposal;
    const { rowMax, colMax } = p.summary();
    const t = levelValue(k);
    let x0 = -1;
    let x1 = -1;
    let y0 = -1;
    let y1 = -1;
    for (let c = 0; c < colMax.length; c++) {
      if (colMax[c] > t) {
        if (x0 < 0) x0 = c;
        x1 = c;
      }
    }
    for (let r = 0; r < rowMax.length; r++) {
      if (rowMax[r] > t) {
        if (y0 < 0) y0 = r;
        y1 = r;
      }
    }
    const box: BoxXYXY = x0 < 0 ? [0, 0, 0, 0] : [p.window.x0 + x0, p.window.y0 + y0, p.window.x0 + x1, p.window.y0 + y1];
    this.boxes.set(i, { k, box });
    return box;
  }

  /**
   * The binarised mask at level k in image coordinates, computed only over the
   * box of {L > t} (from the summaries): outside it the mask is empty by
   * definition, and per-pixel logits do not depend on the window they are
   * evaluated in, so this is exact and costs the mask's box, not the window.
   */
  private windowMask(i: number, k: number): WindowMask {
    const { crop, proposal } = this.all[i];
    const { taps, crop: info } = this.perCrop[crop];
    const box = this.box(i, k);
    const t = levelValue(k);
    const empty = proposal.summary().counts[k] === 0;
    const win = empty ? { x0: 0, y0: 0, w: 0, h: 0 } : { x0: box[0], y0: box[1], w: box[2] - box[0] + 1, h: box[3] - box[1] + 1 };
    const logits = empty ? new Float64Array(0) : upsampleWindow(proposal.lowRes.data, proposal.lowRes.w, proposal.lowRes.x0, proposal.lowRes.y0, taps, win);
    const data = new Uint8Array(logits.length);
    for (let p = 0; p < logits.length; p++) data[p] = logits[p] > t ? 1 : 0;
    return {
      imageWidth: this.imageWidth,
      imageHeight: this.imageHeight,
      window: { x0: win.x0 + info.box[0], y0: win.y0 + info.box[1], w: win.w, h: win.h },
      data,
    };
  }

  private final(i: number, k: number, area: number): { changed: boolean; box: BoxXYXY; rle?: Rle; mask: WindowMask } {
    const key = `${i}:${k}:${area}`;
    let entry = this.materialised.get(key);
    if (!entry) {
      const mask = this.windowMask(i, k);
      if (area > 0) {
        const result = removeSmallRegions(mask, area);
        entry = { changed: result.changed, box: windowMaskBox(result.mask), mask: result.mask };
      } else {
        entry = { changed: false, box: windowMaskBox(mask), mask };
      }
      this.materialised.set(key, entry);
    }
    return entry;
  }

  smallRegions(i: number, k: number, area: number): { changed: boolean; box: BoxXYXY } {
    const e = this.final(i, k, area);
    return { changed: e.changed, box: e.box };
  }

  rle(i: number, k: number, area: number): Rle {
    const e = this.final(i, k, area);
    if (!e.rle) e.rle = encodeRleWindow(e.mask.data, e.mask.window, this.imageWidth, this.imageHeight);
    return e.rle;
  }

  /** Forget materialised masks (bounded memory across many filter knob settings). */
  trimMaterialised(maxEntries: number): void {
    if (this.materialised.size <= maxEntries) return;
    const excess = this.materialised.size - maxEntries;
    let n = 0;
    for (const key of this.materialised.keys()) {
      if (n++ >= excess) break;
      this.materialised.delete(key);
    }
  }
}
