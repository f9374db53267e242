import { describe, expect, it } from 'vitest';
import { labelAreas, labelImageToMasks, masksToLabelImage, relabelSequential } from '../../src/masks/label-image.js';
import { encodeRle } from '../../src/masks/rle.js';
import type { BinaryMask, LabelImage } from '../../src/masks/types.js';
import { Rng } from '../../src/util/rng.js';

const W = 8;
const H = 6;

function rect(x0: number, y0: number, x1: number, y1: number): BinaryMask {
  const data = new Uint8Array(W * H);
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) data[y * W + x] = 1;
  return { width: W, height: H, data };
}

describe('masksToLabelImage', () => {
  it('overlaps go to the smaller mask, whatever the input order; labels follow the input order', () => {
    const big = rect(0, 0, 5, 4); // 30 px
    const small = rect(2, 1, 3, 2); // 4 px, inside big
    const mid = rect(3, 2, 7, 5); // 20 px, overlaps both
    for (const order of [
      [big, small, mid],
      [mid, small, big],
    ]) {
      const label = masksToLabelImage(order, W, H);
      const labelOf = (m: BinaryMask) => order.indexOf(m) + 1;
      expect(label.data[1 * W + 2]).toBe(labelOf(small));
      expect(label.data[2 * W + 3]).toBe(labelOf(small)); // in all three: smallest wins
      expect(label.data[3 * W + 4]).toBe(labelOf(mid)); // big ∩ mid → mid (20 < 30)
      expect(label.data[0]).toBe(labelOf(big));
      expect(label.data[5 * W + 7]).toBe(labelOf(mid));
      expect(label.data[5 * W + 0]).toBe(0);
    }
  });

  it('accepts RLE and bitmap masks alike (same result)', () => {
    const masks = [rect(0, 0, 5, 4), rect(2, 1, 3, 2), rect(3, 2, 7, 5)];
    const fromBitmaps = masksToLabelImage(masks, W, H);
    const fromRle = masksToLabelImage(masks.map(encodeRle), W, H);
    const mixed = masksToLabelImage([masks[0], encodeRle(masks[1]), masks[2]], W, H);
    expect(fromRle.data).toEqual(fromBitmaps.data);
    expect(mixed.data).toEqual(fromBitmaps.data);
  });

  it('equal areas: the earlier mask wins', () => {
    const a = rect(0, 0, 1, 1);
    const b = rect(1, 1, 2, 2);
    expect(masksToLabelImage([a, b], W, H).data[W + 1]).toBe(1);
    expect(masksToLabelImage([b, a], W, H).data[W + 1]).toBe(1);
  });

  it('refuses masks of another size (names which one)', () => {
    expect(() => masksToLabelImage([rect(0, 0, 1, 1), { width: 3, height: 3, data: new Uint8Array(9) }], W, H)).toThrow(/mask 1 is 3×3/);
    expect(() => masksToLabelImage([{ size: [H, W], counts: [3, 4] }], W, H)).toThrow(/RLE 0 covers 7 pixels/);
  });
});

describe('labelImageToMasks / relabelSequential / labelAreas', () => {
  function randomLabels(seed: number, maxLabel: number): LabelImage {
    const rng = new Rng(seed);
    const data = new Uint32Array(W * H).map(() => (rng.next() < 0.4 ? 0 : 1 + rng.int(maxLabel)));
    return { width: W, height: H, data };
  }

  it('splits a label image into per-label masks that paint back to the same image', () => {
    const label = randomLabels(1, 9);
    const masks = labelImageToMasks(label);
    const present = [...new Set(label.data)].filter((v) => v !== 0).sort((a, b) => a - b);
    expect(masks.map((m) => m.label)).toEqual(present);
    for (const { label: l, mask, area } of masks) {
      let n = 0;
      for (let i = 0; i < mask.data.length; i++) {
        expect(mask.data[i]).toBe(label.data[i] === l ? 1 : 0);
        n += mask.data[i];
      }
      expect(area).toBe(n);
    }
    // Disjoint masks → painting them back (label = position + 1) then mapping back gives the original.
    const repainted = masksToLabelImage(masks.map((m) => m.mask), W, H);
    for (let i = 0; i < repainted.data.length; i++) {
      expect(repainted.data[i] === 0 ? 0 : masks[repainted.data[i] - 1].label).toBe(label.data[i]);
    }
  });

  it('relabels to 1..n keeping order, with the map back; works for huge label values', () => {
    const data = new Uint32Array(W * H);
    data[3] = 70_000;
    data[4] = 5;
    data[10] = 4_000_000_000;
    data[11] = 5;
    const r = relabelSequential({ width: W, height: H, data });
    expect(r.count).toBe(3);
    expect([r.label.data[4], r.label.data[3], r.label.data[10], r.label.data[11]]).toEqual([1, 2, 3, 1]);
    expect(Array.from(r.oldLabels)).toEqual([0, 5, 70_000, 4_000_000_000]);
    expect(labelAreas({ width: W, height: H, data })).toEqual({ values: [5, 70_000, 4_000_000_000], areas: [2, 1, 1] });
    const small = randomLabels(2, 30);
    const again = relabelSequential(small);
    for (let i = 0; i < small.data.length; i++) expect(again.oldLabels[again.label.data[i]]).toBe(small.data[i]);
  });
});
