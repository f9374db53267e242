import { describe, expect, it } from 'vitest';
import { decodeRle, encodeRle, encodeRleWindow, rleArea } from '../../src/masks/rle.js';
import type { BoxXYXY } from '../../src/masks/types.js';
import { isNearCropEdge, stabilityScore } from '../../src/segmenters/sam/filter.js';
import { buildPointGrid, generateCropBoxes, pointsPerLayer } from '../../src/segmenters/sam/grid.js';
import { LEVEL_COUNT, levelIndex, levelsBelow, levelValue } from '../../src/segmenters/sam/levels.js';
import { nms } from '../../src/segmenters/sam/nms.js';
import { preprocessShape, scaleCoords } from '../../src/segmenters/sam/preprocess.js';
import { removeSmallRegions, windowMaskBox, type WindowMask } from '../../src/segmenters/sam/small-regions.js';
import { Rng } from '../../src/util/rng.js';

function fullMask(width: number, height: number, rows: string[]): WindowMask {
  const data = new Uint8Array(width * height);
  rows.forEach((row, y) => [...row].forEach((c, x) => (data[y * width + x] = c === '#' ? 1 : 0)));
  return { imageWidth: width, imageHeight: height, window: { x0: 0, y0: 0, w: width, h: height }, data };
}

function asRows(mask: WindowMask): string[] {
  const rows: string[] = [];
  for (let y = 0; y < mask.window.h; y++) {
    let row = '';
    for (let x = 0; x < mask.window.w; x++) row += mask.data[y * mask.window.w + x] ? '#' : '.';
    rows.push(row);
  }
  return rows;
}

describe('point grid', () => {
  it('places point i at (i + 0.5)/N, rows outer', () => {
    const g = buildPointGrid(4);
    expect(g.length).toBe(32);
    expect([g[0], g[1]]).toEqual([0.125, 0.125]);
    expect([g[2], g[3]]).toEqual([0.375, 0.125]); // x varies fastest
    expect([g[8], g[9]]).toEqual([0.125, 0.375]); // second row
    expect(g[30]).toBeCloseTo(0.875, 15);
    expect(g[31]).toBeCloseTo(0.875, 15);
  });
  it('downscales points per crop layer', () => {
    expect(pointsPerLayer(32, 2, 2)).toEqual([32, 16, 8]);
    expect(pointsPerLayer(32, 1, 3)).toEqual([32, 10]);
  });
});

describe('crop boxes', () => {
  it('matches the hand-worked layer-1 boxes', () => {
    // 1000×600, ratio 512/1500: overlap = floor(0.3413·600·1) = 204; crop_w = ceil((204+1000)/2) = 602; crop_h = ceil((204+600)/2) = 402.
    const boxes = generateCropBoxes(1000, 600, 1, 512 / 1500);
    expect(boxes.map((b) => b.box)).toEqual([
      [0, 0, 1000, 600],
      [0, 0, 602, 402],
      [0, 198, 602, 600],
      [398, 0, 1000, 402],
      [398, 198, 1000, 600],
    ]);
    expect(boxes.map((b) => b.layer)).toEqual([0, 1, 1, 1, 1]);
  });
  it('layer 2 has 16 crops clipped to the image', () => {
    const boxes = generateCropBoxes(512, 512, 2, 0.25);
    expect(boxes.length).toBe(1 + 4 + 16);
    for (const { box } of boxes) {
      expect(box[2]).toBeLessThanOrEqual(512);
      expect(box[3]).toBeLessThanOrEqual(512);
    }
  });
});

describe('preprocessing geometry', () => {
  it('resizes the long side to 1024 with floor(x + 0.5)', () => {
    expect(preprocessShape(520, 696)).toEqual({ height: 765, width: 1024 });
    expect(preprocessShape(2048, 2048)).toEqual({ height: 1024, width: 1024 });
    expect(preprocessShape(200, 300)).toEqual({ height: 683, width: 1024 });
  });
  it('scales prompt coordinates by new/old per axis', () => {
    const [x, y] = scaleCoords(348, 260, 696, 520);
    expect(x).toBeCloseTo(512, 10);
    expect(y).toBeCloseTo(260 * (765 / 520), 10);
  });
});

describe('logit levels', () => {
  it('are exact multiples of the step and index back', () => {
    expect(levelValue(levelIndex(0))).toBe(0);
    expect(levelValue(levelIndex(1))).toBe(1);
    expect(levelValue(levelIndex(-1.35))).toBe(-1.35);
  });
  it('levelsBelow agrees with direct comparison', () => {
    const rng = new Rng(3);
    for (let n = 0; n < 2000; n++) {
      const v = n < 100 ? levelValue(n) : rng.uniform(-6, 6);
      const k = levelsBelow(v);
      for (let j = 0; j < LEVEL_COUNT; j++) expect(v > levelValue(j)).toBe(j <= k);
    }
  });
});

describe('stability score', () => {
  it('is |L > t+δ| / |L > t−δ| in float32', () => {
    expect(stabilityScore(45, 50)).toBe(Math.fround(0.9));
    expect(stabilityScore(50, 50)).toBe(1);
  });
  it('is NaN for an empty denominator, which fails any >= test', () => {
    const s = stabilityScore(0, 0);
    expect(Number.isNaN(s)).toBe(true);
    expect(s >= 0).toBe(false);
  });
});

describe('box NMS', () => {
  it('suppresses only when IoU is strictly greater than the threshold', () => {
    // IoU of [0,0,10,10] and [0,0,10,5] = 50/100 = 0.5 exactly (area without +1).
    const boxes: BoxXYXY[] = [
      [0, 0, 10, 10],
      [0, 0, 10, 5],
    ];
    expect(nms(boxes, [0.9, 0.8], 0.5)).toEqual([0, 1]);
    expect(nms(boxes, [0.9, 0.8], 0.49)).toEqual([0]);
  });
  it('keeps in decreasing score order and lets a lower score win when the higher one is gone', () => {
    const boxes: BoxXYXY[] = [
      [0, 0, 10, 10],
      [1, 1, 11, 11],
      [100, 100, 110, 110],
    ];
    expect(nms(boxes, [0.5, 0.9, 0.7], 0.5)).toEqual([1, 2]);
  });
  it('agrees with brute-force greedy NMS on random boxes', () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 30; trial++) {
      const n = 80;
      const boxes: BoxXYXY[] = [];
      const scores: number[] = [];
      for (let i = 0; i < n; i++) {
        const x = rng.int(300);
        const y = rng.int(300);
        boxes.push([x, y, x + 1 + rng.int(80), y + 1 + rng.int(80)]);
        scores.push(rng.next());
      }
      const order = [...scores.keys()].sort((a, b) => scores[b] - scores[a] || a - b);
      const expected: number[] = [];
      for (const i of order) {
        const ok = expected.every((k) => {
          const [a0, b0, a1, b1] = boxes[i];
          const [c0, d0, c1, d1] = boxes[k];
          const inter = Math.max(0, Math.min(a1, c1) - Math.max(a0, c0)) * Math.max(0, Math.min(b1, d1) - Math.max(b0, d0));
          const union = (a1 - a0) * (b1 - b0) + (c1 - c0) * (d1 - d0) - inter;
          return !(Math.fround(inter / union) > 0.3);
        });
        if (ok) expected.push(i);
      }
      expect(nms(boxes, scores, 0.3)).toEqual(expected);
    }
  });
});

describe('crop-edge filter', () => {
  it('drops boxes near an inner crop edge but not near the image edge', () => {
    const crop: BoxXYXY = [0, 0, 602, 402];
    expect(isNearCropEdge([100, 100, 590, 200], crop, 1000, 600)).toBe(true); // x1 within 20 of 602
    expect(isNearCropEdge([5, 5, 100, 100], crop, 1000, 600)).toBe(false); // near the image's top-left edge
    expect(isNearCropEdge([100, 100, 500, 300], crop, 1000, 600)).toBe(false);
  });
  it('never drops anything for the whole-image crop', () => {
    expect(isNearCropEdge([0, 0, 999, 599], [0, 0, 1000, 600], 1000, 600)).toBe(false);
  });
});

describe('COCO RLE', () => {
  it('runs walk columns and start with a background run', () => {
    // 2×3 (h×w): column-major order is (0,0),(1,0),(0,1),(1,1),(0,2),(1,2).
    const mask = { width: 3, height: 2, data: Uint8Array.from([1, 0, 0, 1, 1, 0]) };
    const rle = encodeRle(mask);
    expect(rle.size).toEqual([2, 3]);
    // column-major sequence: 1,1,0,1,0,0 → runs: 0 bg, 2 fg, 1 bg, 1 fg, 2 bg
    expect(rle.counts).toEqual([0, 2, 1, 1, 2]);
    expect(rleArea(rle)).toBe(3);
    expect(decodeRle(rle).data).toEqual(mask.data);
  });
  it('window encoding equals full encoding, including runs across columns', () => {
    const rng = new Rng(5);
    for (let trial = 0; trial < 50; trial++) {
      const W = 1 + rng.int(20);
      const H = 1 + rng.int(20);
      const x0 = rng.int(W);
      const y0 = rng.int(H);
      const w = 1 + rng.int(W - x0);
      const h = 1 + rng.int(H - y0);
      const win = new Uint8Array(w * h).map(() => (rng.next() < 0.5 ? 1 : 0));
      const full = new Uint8Array(W * H);
      for (let j = 0; j < h; j++) for (let i = 0; i < w; i++) full[(y0 + j) * W + x0 + i] = win[j * w + i];
      expect(encodeRleWindow(win, { x0, y0, w, h }, W, H)).toEqual(encodeRle({ width: W, height: H, data: full }));
    }
  });
});

describe('small-region rule (holes, then islands, 8-connectivity)', () => {
  it('fills a small hole and removes a small island', () => {
    const mask = fullMask(8, 6, ['........', '.####...', '.#.##...', '.####...', '......#.', '........']);
    const out = removeSmallRegions(mask, 2);
    expect(out.changed).toBe(true);
    expect(asRows(out.mask)).toEqual(['........', '.####...', '.####...', '.####...', '........', '........']);
  });
  it('counts diagonal neighbours as connected (8-connectivity)', () => {
    const mask = fullMask(6, 6, ['......', '.##...', '.##...', '...##.', '...##.', '......']);
    const out = removeSmallRegions(mask, 5);
    expect(out.changed).toBe(false);
  });
  it('keeps the largest island when every island is small', () => {
    const mask = fullMask(8, 5, ['........', '.##...#.', '.##.....', '........', '.....#..']);
    const out = removeSmallRegions(mask, 10);
    expect(out.changed).toBe(true);
    expect(asRows(out.mask)).toEqual(['........', '.##.....', '.##.....', '........', '........']);
  });
  it('reports unchanged when nothing is small', () => {
    const mask = fullMask(5, 5, ['.....', '.###.', '.###.', '.###.', '.....']);
    const out = removeSmallRegions(mask, 3);
    expect(out.changed).toBe(false);
    expect(windowMaskBox(out.mask)).toEqual([1, 1, 3, 3]);
  });
  it('a window mask gives the same answer as the full-image mask', () => {
    const rng = new Rng(9);
    for (let trial = 0; trial < 120; trial++) {
      const W = 6 + rng.int(18);
      const H = 6 + rng.int(18);
      const x0 = rng.int(W - 2);
      const y0 = rng.int(H - 2);
      const w = 1 + rng.int(W - x0);
      const h = 1 + rng.int(H - y0);
      const win = new Uint8Array(w * h).map(() => (rng.next() < 0.55 ? 1 : 0));
      const full = new Uint8Array(W * H);
      for (let j = 0; j < h; j++) for (let i = 0; i < w; i++) full[(y0 + j) * W + x0 + i] = win[j * w + i];
      const area = 1 + rng.int(Math.max(2, Math.floor((W * H) / 3)));
      const a = removeSmallRegions({ imageWidth: W, imageHeight: H, window: { x0, y0, w, h }, data: win }, area);
      const b = removeSmallRegions({ imageWidth: W, imageHeight: H, window: { x0: 0, y0: 0, w: W, h: H }, data: full }, area);
      expect(a.changed).toBe(b.changed);
      expect(windowMaskBox(a.mask)).toEqual(windowMaskBox(b.mask));
      const rleA = encodeRleWindow(a.mask.data, a.mask.window, W, H);
      const rleB = encodeRleWindow(b.mask.data, b.mask.window, W, H);
      expect(rleA).toEqual(rleB);
    }
  });
});
