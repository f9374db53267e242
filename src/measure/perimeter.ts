import type { InstanceCrop } from './types.js';
import { Scratch } from './scratch.js';

/**
 * scikit-image's `perimeter(image, neighbourhood=4)`, which `regionprops` uses:
 *
 * 1. border pixels = the object minus its erosion by the 4-connected cross (pixels with a
 *    4-neighbour outside the object or outside the image);
 * 2. each border pixel gets a code 1 + 2·(border 4-neighbours) + 10·(border diagonal neighbours);
 * 3. codes 5, 7, 15, 17, 25, 27 weigh 1 (straight runs), 21 and 33 weigh √2 (diagonal runs),
 *    13 and 23 weigh (1 + √2)/2 (corners); every other code (isolated pixels, line ends) weighs 0.
 *
 * The sum is the perimeter (Benkrid & Crookes' estimator). It runs inside the crop's zero frame,
 * which is exactly skimage's `border_value=0` on the region's box.
 */
const WEIGHTS = new Float64Array(50);
for (const code of [5, 7, 15, 17, 25, 27]) WEIGHTS[code] = 1;
WEIGHTS[21] = WEIGHTS[33] = Math.SQRT2;
WEIGHTS[13] = WEIGHTS[23] = (1 + Math.SQRT2) / 2;

const scratch = new Scratch();

export interface Boundary {
  readonly perimeter: number;
  /** Crop-buffer indices of the border pixels (valid until the next call). */
  readonly pixels: Int32Array;
}

export function boundaryOf(crop: InstanceCrop): Boundary {
  const { rows, cols, data } = crop;
  const stride = cols + 2;
  const border = scratch.bytes(data.length);
  const list = scratch.ints(crop.area);
  let n = 0;
  for (let r = 1; r <= rows; r++) {
    for (let i = r * stride + 1, end = i + cols; i < end; i++) {
      if (data[i] && !(data[i - 1] && data[i + 1] && data[i - stride] && data[i + stride])) {
        border[i] = 1;
        list[n++] = i;
      }
    }
  }
  let perimeter = 0;
  for (let k = 0; k < n; k++) {
    const i = list[k];
    const straight = border[i - 1] + border[i + 1] + border[i - stride] + border[i + stride];
    const diagonal = border[i - stride - 1] + border[i - stride + 1] + border[i + stride - 1] + border[i + stride + 1];
    perimeter += WEIGHTS[1 + 2 * straight + 10 * diagonal];
  }
  return { perimeter, pixels: list.subarray(0, n) };
}
