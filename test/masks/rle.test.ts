import { describe, expect, it } from 'vitest';
import { decodeRle, encodeRle, rleArea } from '../../src/masks/rle.js';
import type { BinaryMask } from '../../src/masks/types.js';
import { Rng } from '../../src/util/rng.js';

function mask(rows: string[]): BinaryMask {
  const height = rows.length;
  const width = rows[0].length;
  const data = new Uint8Array(width * height);
  rows.forEach((row, y) => [...row].forEach((c, x) => (data[y * width + x] = c === '#' ? 1 : 0)));
  return { width, height, data };
}

describe('COCO RLE', () => {
  it('walks columns (column-major), starting with a background run', () => {
    // Columns top to bottom: col0 = [1,0], col1 = [1,1], col2 = [0,0].
    const m = mask(['##.', '.#.']);
    const rle = encodeRle(m);
    expect(rle.size).toEqual([2, 3]);
    expect(rle.counts).toEqual([0, 1, 1, 2, 2]);
    expect(rleArea(rle)).toBe(3);
  });

  it('a mask starting with background has a non-zero first run; an empty mask is one background run', () => {
    expect(encodeRle(mask(['.#', '..'])).counts).toEqual([2, 1, 1]);
    expect(encodeRle(mask(['..', '..'])).counts).toEqual([4]);
    expect(encodeRle(mask(['##', '##'])).counts).toEqual([0, 4]);
    expect(rleArea(encodeRle(mask(['..', '..'])))).toBe(0);
  });

  it('differs from row-major runs on a non-symmetric mask', () => {
    // A filled left column: column-major reads 1,1,0,0 → [0, 2, 2]; row-major would read 1,0,1,0.
    expect(encodeRle(mask(['#.', '#.'])).counts).toEqual([0, 2, 2]);
    // A filled top row: column-major reads 1,0,1,0; row-major would give [0, 2, 2].
    expect(encodeRle(mask(['##', '..'])).counts).toEqual([0, 1, 1, 1, 1]);
  });

  it('round-trips random masks exactly', () => {
    const rng = new Rng(2);
    for (let t = 0; t < 40; t++) {
      const width = 1 + rng.int(25);
      const height = 1 + rng.int(25);
      const p = rng.next();
      const m: BinaryMask = { width, height, data: new Uint8Array(width * height).map(() => (rng.next() < p ? 1 : 0)) };
      const rle = encodeRle(m);
      expect(rle.counts.reduce((a, b) => a + b, 0)).toBe(width * height);
      expect(rle.counts.slice(1).every((c) => c > 0)).toBe(true);
      expect(decodeRle(rle)).toEqual(m);
      expect(rleArea(rle)).toBe(m.data.reduce((a, b) => a + b, 0));
    }
  });
});
