import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { LabelImage } from '../../src/masks/types.js';
import { matchBoxes, parseYoloBoxes, readYoloBoxes } from '../../src/measure/boxes.js';
import { measureLabels } from '../../src/measure/measure.js';
import { SamstarError } from '../../src/util/errors.js';
import { dataPath, HAVE_DATA } from './data.js';

/** Squares [label, row0, col0, side] on a 100×100 frame. */
function squares(list: [number, number, number, number][]): LabelImage {
  const data = new Uint32Array(100 * 100);
  for (const [label, r0, c0, side] of list) {
    for (let r = r0; r < r0 + side; r++) for (let c = c0; c < c0 + side; c++) data[r * 100 + c] = label;
  }
  return { width: 100, height: 100, data };
}

/** A YOLO line for the square's exact pixel box. */
function yolo(r0: number, c0: number, side: number): string {
  return `0 ${(c0 + side / 2) / 100} ${(r0 + side / 2) / 100} ${side / 100} ${side / 100}`;
}

describe('YOLO box truth', () => {
  it('parses normalised lines into pixel boxes', () => {
    const t = parseYoloBoxes('# comment\n0 0.5 0.25 0.1 0.2\n\n1 0.1 0.1 0.02 0.02 0.9\n', 200, 100);
    const expected = [
      { cls: 0, x0: 90, x1: 110, y0: 15, y1: 35 },
      { cls: 1, x0: 18, x1: 22, y0: 9, y1: 11 },
    ];
    expect(t.boxes).toHaveLength(2);
    t.boxes.forEach((b, i) => {
      for (const key of ['cls', 'x0', 'x1', 'y0', 'y1'] as const) expect(b[key]).toBeCloseTo(expected[i][key], 10);
    });
  });

  it('bad lines name the file and line', () => {
    const err = (text: string): string => {
      try {
        parseYoloBoxes(text, 100, 100, 'a.txt');
      } catch (e) {
        expect(e).toBeInstanceOf(SamstarError);
        return (e as Error).message;
      }
      throw new Error('expected an error');
    };
    expect(err('0 0.5 0.5 0.1\n')).toMatch(/^a\.txt:1: expected "class cx cy w h", got 4 fields/);
    expect(err('0 0.5 0.5 0.1 0.1\n0 0.5 x 0.1 0.1')).toMatch(/^a\.txt:2: cy "x" is not a number/);
    expect(err('0 50 50 10 10')).toMatch(/cx = 50 is outside 0–1/);
    expect(err('0 0.5 0.5 0 0.1')).toMatch(/width and height must be > 0/);
  });

  it.skipIf(!HAVE_DATA)('reads the STEM nanoparticle boxes', async () => {
    const files = readdirSync(dataPath('stem-nanoparticles/boxes')).filter((f) => f.endsWith('.txt'));
    expect(files.length).toBeGreaterThan(0);
    const t = await readYoloBoxes(dataPath(`stem-nanoparticles/boxes/${files[0]}`), 1024, 1024);
    expect(t.boxes.length).toBeGreaterThan(0);
    for (const b of t.boxes) expect(b.x1).toBeGreaterThan(b.x0);
  });
});

describe('matching instances to boxes', () => {
  const truthText = [yolo(10, 10, 10), yolo(50, 50, 20), yolo(80, 10, 8)].join('\n');
  const truth = parseYoloBoxes(truthText, 100, 100);

  it('perfect instances: F1 1, no diameter error, box IoU 1', () => {
    const pred = measureLabels(squares([[1, 10, 10, 10], [2, 50, 50, 20], [3, 80, 10, 8]])).instances;
    for (const options of [{ match: 'center', maxDistance: 0.5 } as const, { match: 'box_iou', minIou: 0.5 } as const]) {
      const s = matchBoxes(pred, truth, options);
      expect([s.tp, s.fp, s.fn, s.f1]).toEqual([3, 0, 0, 1]);
      expect(s.diameter_error).toBeCloseTo(0, 10);
      expect(s.mean_iou).toBeCloseTo(1, 10);
    }
  });

  it('a shifted, smaller instance, a false positive, a miss', () => {
    // Square 2 shrunk to 16 px and moved by 2 px: centre distance 2/10 of the half-size (matches);
    // box IoU 256/400 = 0.64. A false positive far away; box 3 missed.
    const pred = measureLabels(squares([[1, 10, 10, 10], [2, 54, 54, 16], [4, 30, 70, 6]])).instances;
    const s = matchBoxes(pred, truth, { match: 'center', maxDistance: 0.5, diameter: 'box' });
    expect([s.tp, s.fp, s.fn]).toEqual([2, 1, 1]);
    expect(s.f1).toBeCloseTo(4 / 6, 12);
    expect(s.diameter_error).toBeCloseTo((0 + 4 / 20) / 2, 12);
    expect(s.mean_iou).toBeCloseTo((1 + 0.64) / 2, 12);
    expect(matchBoxes(pred, truth, { match: 'box_iou', minIou: 0.7 }).tp).toBe(1);
    expect(matchBoxes(pred, truth, { match: 'center', maxDistance: 0.1 }).tp).toBe(1);
  });

  it('empty prediction and empty truth', () => {
    const none = parseYoloBoxes('', 100, 100);
    const s = matchBoxes([], truth, { match: 'center', maxDistance: 0.5 });
    expect([s.f1, s.recall, s.diameter_error]).toEqual([0, 0, 1]);
    const both = matchBoxes([], none, { match: 'center', maxDistance: 0.5 });
    expect([both.f1, both.diameter_error]).toEqual([1, 0]);
  });
});
