import { describe, expect, it } from 'vitest';
import { labelComponents } from '../../src/masks/components.js';
import { Rng } from '../../src/util/rng.js';

/** Parse a picture: '#' = foreground. */
function grid(rows: string[]): { data: Uint8Array; width: number; height: number } {
  const height = rows.length;
  const width = rows[0].length;
  const data = new Uint8Array(width * height);
  rows.forEach((row, y) => [...row].forEach((c, x) => (data[y * width + x] = c === '#' ? 1 : 0)));
  return { data, width, height };
}

/**
 * Reference: breadth-first flood fill from each unlabelled foreground pixel in
 * raster order, the obvious (slow) algorithm, numbering components the same way.
 */
function floodFill(data: Uint8Array, width: number, height: number, connectivity: 4 | 8): Int32Array {
  const labels = new Int32Array(width * height);
  const steps = connectivity === 4 ? [[1, 0], [-1, 0], [0, 1], [0, -1]] : [[1, 0], [-1, 0], [0, 1], [0, -1], [1, 1], [1, -1], [-1, 1], [-1, -1]];
  let next = 0;
  for (let start = 0; start < data.length; start++) {
    if (!data[start] || labels[start]) continue;
    next++;
    const queue = [start];
    labels[start] = next;
    while (queue.length) {
      const i = queue.pop() as number;
      const x = i % width;
      const y = (i - x) / width;
      for (const [dx, dy] of steps) {
        const xx = x + dx;
        const yy = y + dy;
        if (xx < 0 || yy < 0 || xx >= width || yy >= height) continue;
        const j = yy * width + xx;
        if (data[j] && !labels[j]) {
          labels[j] = next;
          queue.push(j);
        }
      }
    }
  }
  return labels;
}

describe('labelComponents', () => {
  it('hand-worked case: diagonal contacts join under 8- but not 4-connectivity', () => {
    const g = grid([
      '##...#', //
      '##..#.',
      '...#..',
      '#.....',
      '##..##',
    ]);
    const eight = labelComponents(g.data, g.width, g.height, 8);
    // 8: the 2×2 block, the diagonal line (3 px), the L at bottom left (3 px), the pair at bottom right.
    expect(eight.count).toBe(4);
    expect(Array.from(eight.areas)).toEqual([0, 4, 3, 3, 2]);
    expect(Array.from(eight.labels.subarray(0, 6))).toEqual([1, 1, 0, 0, 0, 2]);
    expect(eight.labels[2 * 6 + 3]).toBe(2);

    const four = labelComponents(g.data, g.width, g.height, 4);
    // 4: the diagonal line splits into three single pixels.
    expect(four.count).toBe(6);
    expect(Array.from(four.areas)).toEqual([0, 4, 1, 1, 1, 3, 2]);
    expect(four.labels[5]).toBe(2);
    expect(four.labels[6 + 4]).toBe(3);
    expect(four.labels[12 + 3]).toBe(4);
  });

  it('a U shape whose arms meet only at the bottom is one component (needs the union step)', () => {
    const g = grid(['#.#.#', '#.#.#', '#####']);
    const r = labelComponents(g.data, g.width, g.height, 4);
    expect(r.count).toBe(1);
    expect(r.areas[1]).toBe(11);
    expect(new Set(Array.from(r.labels).filter((v) => v))).toEqual(new Set([1]));
  });

  it('empty, full and checkerboard images', () => {
    expect(labelComponents(new Uint8Array(12), 4, 3).count).toBe(0);
    const full = labelComponents(new Uint8Array(12).fill(1), 4, 3);
    expect([full.count, full.areas[1]]).toEqual([1, 12]);
    const checker = new Uint8Array(7 * 5).map((_, i) => ((i % 7) + Math.floor(i / 7)) % 2);
    expect(labelComponents(checker, 7, 5, 4).count).toBe(17);
    expect(labelComponents(checker, 7, 5, 8).count).toBe(1);
  });

  it('matches a brute-force flood fill on random masks (labels, count, areas)', () => {
    const rng = new Rng(5);
    for (let trial = 0; trial < 60; trial++) {
      const width = 1 + rng.int(40);
      const height = 1 + rng.int(30);
      const density = rng.uniform(0.2, 0.75);
      const data = new Uint8Array(width * height).map(() => (rng.next() < density ? 1 : 0));
      for (const connectivity of [4, 8] as const) {
        const got = labelComponents(data, width, height, connectivity);
        const want = floodFill(data, width, height, connectivity);
        // Byte comparison: vitest's element-wise deep equality is slow on typed arrays.
        expect(Buffer.from(got.labels.buffer).equals(Buffer.from(want.buffer))).toBe(true);
        const count = want.reduce((m, v) => Math.max(m, v), 0);
        expect(got.count).toBe(count);
        const areas = new Int32Array(count + 1);
        for (const v of want) if (v) areas[v]++;
        expect(got.areas).toEqual(areas);
      }
    }
  });

  it('rejects a size mismatch', () => {
    expect(() => labelComponents(new Uint8Array(5), 2, 3)).toThrow(/5 pixels.*2×3/);
  });
});
