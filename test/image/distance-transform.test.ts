import { describe, expect, it } from 'vitest';
import { mostInteriorPixel, squaredDistanceToBackground } from '../../src/image/distance-transform.js';
import { Rng } from '../../src/util/rng.js';

/** Brute force: squared distance to the nearest background pixel, the outside of the image counting as background. */
function bruteForce(mask: Uint8Array, width: number, height: number): Float64Array {
  const out = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!mask[y * width + x]) continue;
      // the nearest outside pixel is one step past the nearest edge
      let best = Math.min(x + 1, y + 1, width - x, height - y) ** 2;
      for (let v = 0; v < height; v++) {
        for (let u = 0; u < width; u++) {
          if (!mask[v * width + u]) best = Math.min(best, (u - x) ** 2 + (v - y) ** 2);
        }
      }
      out[y * width + x] = best;
    }
  }
  return out;
}

describe('exact Euclidean distance transform', () => {
  it('equals brute force on random masks, frame edges counting as background', () => {
    const rng = new Rng(9);
    for (let trial = 0; trial < 40; trial++) {
      const width = 3 + rng.int(18);
      const height = 3 + rng.int(18);
      const density = rng.uniform(0.3, 0.97);
      const mask = new Uint8Array(width * height);
      for (let i = 0; i < mask.length; i++) mask[i] = rng.next() < density ? 1 : 0;
      expect(Array.from(squaredDistanceToBackground(mask, width, height))).toEqual(Array.from(bruteForce(mask, width, height)));
    }
  });

  it('puts the most interior pixel of a disk at its centre, and returns null for an empty mask', () => {
    const width = 41;
    const height = 31;
    const mask = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) mask[y * width + x] = (x - 25) ** 2 + (y - 12) ** 2 <= 64 ? 1 : 0;
    expect(mostInteriorPixel(mask, width, height)).toEqual({ x: 25, y: 12 });
    expect(mostInteriorPixel(new Uint8Array(width * height), width, height)).toBeNull();
  });
});
