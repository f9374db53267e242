import type { BoxXYXY } from '../../masks/types.js';

/**
 * Point grids and crop boxes exactly as segment-anything's amg.py builds them.
 */

/** N×N points in [0,1]², point i on an axis at (i + 0.5)/N; rows outer (y), columns inner (x). */
export function buildPointGrid(n: number): Float64Array {
  const points = new Float64Array(n * n * 2);
  const offset = 1 / (2 * n);
  // linspace(offset, 1 − offset, n), computed the way numpy does (start + i·step).
  const step = n > 1 ? (1 - 2 * offset) / (n - 1) : 0;
  const axis = Float64Array.from({ length: n }, (_, i) => (n > 1 && i === n - 1 ? 1 - offset : offset + i * step));
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const i = (y * n + x) * 2;
      points[i] = axis[x];
      points[i + 1] = axis[y];
    }
  }
  return points;
}

/** Points per side for each crop layer: floor(N / factor^i). */
export function pointsPerLayer(pointsPerSide: number, cropLayers: number, downscaleFactor: number): number[] {
  const out: number[] = [];
  for (let i = 0; i <= cropLayers; i++) out.push(Math.floor(pointsPerSide / downscaleFactor ** i));
  return out;
}

export interface CropBox {
  /** XYXY with exclusive x1, y1 (SAM's crop box convention). */
  readonly box: BoxXYXY;
  readonly layer: number;
}

/**
 * Layer 0 is the whole image; layer i ≥ 1 has (2^i)² crops with
 * overlap = floor(ratio · short_side · 2 / n) and crop length
 * ceil((overlap·(n−1) + length) / n); origins x outer, y inner.
 */
export function generateCropBoxes(width: number, height: number, cropLayers: number, overlapRatio: number): CropBox[] {
  const boxes: CropBox[] = [{ box: [0, 0, width, height], layer: 0 }];
  const shortSide = Math.min(width, height);
  const cropLength = (length: number, n: number, overlap: number): number => Math.ceil((overlap * (n - 1) + length) / n);
  for (let layer = 0; layer < cropLayers; layer++) {
    const n = 2 ** (layer + 1);
    const overlap = Math.trunc(overlapRatio * shortSide * (2 / n));
    const cropW = cropLength(width, n, overlap);
    const cropH = cropLength(height, n, overlap);
    const x0s = Array.from({ length: n }, (_, i) => Math.trunc((cropW - overlap) * i));
    const y0s = Array.from({ length: n }, (_, i) => Math.trunc((cropH - overlap) * i));
    for (const x0 of x0s) {
      for (const y0 of y0s) {
        boxes.push({ box: [x0, y0, Math.min(x0 + cropW, width), Math.min(y0 + cropH, height)], layer: layer + 1 });
      }
    }
  }
  return boxes;
}
