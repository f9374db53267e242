import type { BinaryMask, LabelImage, Rle } from '../masks/types.js';
import type { Segmentation } from '../masks/segmentation.js';
import { SamstarError } from '../util/errors.js';
import { FIRST_CLAIM, INSIDE, type InstanceCrop, type InstanceSet } from './types.js';

/**
 * Turning predictions into crops: one pass over a label image (or one walk over each mask's runs)
 * finds the boxes, a second copies each instance into its own small zero-framed buffer. Every
 * later measurement then touches only the instance's box, never the whole frame.
 */

function where(source: string | undefined): string {
  return source ? `${source}: ` : '';
}

/** Check that a label image is what the contract says: integer, non-negative, the right length. */
export function validateLabelImage(label: LabelImage, source?: string): void {
  const { width, height, data } = label;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new SamstarError('LABELS_INVALID', `${where(source)}label image has an invalid size ${width}×${height}`);
  }
  if (data.length !== width * height) {
    throw new SamstarError(
      'SIZE_MISMATCH',
      `${where(source)}label image data has ${data.length} values, expected ${width}×${height} = ${width * height}`,
    );
  }
  // A Uint32Array is integer and non-negative by construction; anything else passed in at run
  // time (a float array from a TIFF, say) is checked value by value.
  const typed = data as unknown;
  if (typed instanceof Uint32Array || typed instanceof Uint16Array || typed instanceof Uint8Array) return;
  const values = data as ArrayLike<number>;
  for (let p = 0; p < values.length; p++) {
    const v = values[p];
    if (!Number.isInteger(v) || v < 0) {
      const row = Math.floor(p / width);
      throw new SamstarError(
        'LABELS_INVALID',
        `${where(source)}label image holds ${v} at row ${row}, column ${p - row * width}: labels must be non-negative integers`,
        { hint: 'a label image has 0 for background and 1, 2, … for the instances (a 16-bit or 32-bit integer PNG)' },
      );
    }
  }
}

function emptyCrop(label: number, row0: number, col0: number, rows: number, cols: number, area: number): InstanceCrop {
  return { label, row0, col0, rows, cols, data: new Uint8Array((rows + 2) * (cols + 2)), area };
}

/** A label beyond the dense table: grow the table (up to 2^24 entries) or fall back to a Map. */
function slowSlot(
  v: number,
  table: Int32Array,
  sparse: Map<number, number> | null,
): [Int32Array, Map<number, number> | null, number] {
  if (v < 1 << 24) {
    const grown = new Int32Array(Math.min(1 << 24, Math.max(v + 1, table.length * 2)));
    grown.set(table);
    return [grown, sparse, grown[v] - 1];
  }
  const map = sparse ?? new Map<number, number>();
  return [table, map, map.get(v) ?? -1];
}

/** Crops of every instance of a label image, in ascending label order (as regionprops lists them). */
export function cropsFromLabels(label: LabelImage, source?: string): InstanceSet {
  validateLabelImage(label, source);
  const { width, height } = label;
  const data = label.data as ArrayLike<number> as Uint32Array;

  // One pass: per label, its box and area. Labels map to slots through a dense table (slot + 1,
  // 0 = not seen yet) that grows with the largest label; labels of 2^24 and more use a Map.
  let table: Int32Array = new Int32Array(1 << 16);
  let sparse: Map<number, number> | null = null;
  const found: number[] = [];
  const minR: number[] = [], maxR: number[] = [], minC: number[] = [], maxC: number[] = [], area: number[] = [];
  for (let y = 0, p = 0; y < height; y++) {
    for (let x = 0; x < width; x++, p++) {
      const v = data[p];
      if (v === 0) continue;
      let slot: number;
      if (v < table.length) slot = table[v] - 1;
      else [table, sparse, slot] = slowSlot(v, table, sparse);
      if (slot < 0) {
        slot = found.length;
        found.push(v);
        if (v < table.length) table[v] = slot + 1;
        else sparse!.set(v, slot);
        minR.push(y), maxR.push(y), minC.push(x), maxC.push(x), area.push(0);
      }
      area[slot]++;
      maxR[slot] = y; // rows arrive in order: the first row seen is the minimum
      if (x < minC[slot]) minC[slot] = x;
      else if (x > maxC[slot]) maxC[slot] = x;
    }
  }

  const order = found.map((_, i) => i).sort((a, b) => found[a] - found[b]);
  const crops: InstanceCrop[] = [];
  let covered = 0;
  for (const slot of order) {
    const value = found[slot];
    const rows = maxR[slot] - minR[slot] + 1;
    const cols = maxC[slot] - minC[slot] + 1;
    const crop = emptyCrop(value, minR[slot], minC[slot], rows, cols, area[slot]);
    const out = crop.data;
    const stride = cols + 2;
    for (let r = 0; r < rows; r++) {
      const src = (minR[slot] + r) * width + minC[slot];
      const dst = (r + 1) * stride + 1;
      for (let c = 0; c < cols; c++) if (data[src + c] === value) out[dst + c] = FIRST_CLAIM;
    }
    covered += crop.area;
    crops.push(crop);
  }
  return { width, height, crops, claims: data, disjoint: true, covered, overlap: 0 };
}

function validateRle(rle: Rle, width: number, height: number, what: string): void {
  if (!rle || !Array.isArray(rle.size) || !Array.isArray(rle.counts)) {
    throw new SamstarError('LABELS_INVALID', `${what}: not a COCO RLE (needs size [height, width] and counts)`);
  }
  const [h, w] = rle.size;
  if (h !== height || w !== width) {
    throw new SamstarError(
      'SIZE_MISMATCH',
      `${what}: mask is ${w}×${h} (width×height) but the frame is ${width}×${height}`,
    );
  }
  let total = 0;
  for (const run of rle.counts) {
    if (!Number.isInteger(run) || run < 0) {
      throw new SamstarError('LABELS_INVALID', `${what}: RLE run length ${run} is not a non-negative integer`);
    }
    total += run;
  }
  if (total !== width * height) {
    throw new SamstarError(
      'LABELS_INVALID',
      `${what}: RLE runs cover ${total} pixels, expected ${width}×${height} = ${width * height}`,
    );
  }
}

/** Crop of one COCO RLE (column-major runs, starting with background). Null when the mask is empty. */
export function cropFromRle(rle: Rle, label: number, width: number, height: number, what = `mask ${label}`): InstanceCrop | null {
  validateRle(rle, width, height, what);
  const counts = rle.counts;
  let minR = height, maxR = -1, minC = width, maxC = -1, area = 0;
  let k = 0;
  for (let i = 0; i < counts.length; i++) {
    const run = counts[i];
    if (i & 1 && run > 0) {
      const x0 = Math.floor(k / height), y0 = k - x0 * height;
      const end = k + run - 1;
      const x1 = Math.floor(end / height), y1 = end - x1 * height;
      if (x0 < minC) minC = x0;
      if (x1 > maxC) maxC = x1;
      // A run that wraps into the next column covers the column bottom and top.
      const top = x1 > x0 ? 0 : y0;
      const bottom = x1 > x0 ? height - 1 : y1;
      if (top < minR) minR = top;
      if (bottom > maxR) maxR = bottom;
      area += run;
    }
    k += run;
  }
  if (area === 0) return null;
  const rows = maxR - minR + 1, cols = maxC - minC + 1;
  const crop = emptyCrop(label, minR, minC, rows, cols, area);
  const stride = cols + 2;
  k = 0;
  for (let i = 0; i < counts.length; i++) {
    let run = counts[i];
    if (i & 1) {
      let position = k;
      while (run > 0) {
        const x = Math.floor(position / height), y = position - x * height;
        const segment = Math.min(run, height - y);
        let dst = (y - minR + 1) * stride + (x - minC + 1);
        for (let s = 0; s < segment; s++, dst += stride) crop.data[dst] = INSIDE;
        position += segment;
        run -= segment;
      }
    }
    k += counts[i];
  }
  return crop;
}

/** Crop of one row-major binary mask. Null when the mask is empty. */
export function cropFromBinary(mask: BinaryMask, label: number, width: number, height: number, what = `mask ${label}`): InstanceCrop | null {
  if (mask.width !== width || mask.height !== height || mask.data.length !== width * height) {
    throw new SamstarError(
      'SIZE_MISMATCH',
      `${what}: mask is ${mask.width}×${mask.height} (${mask.data.length} values) but the frame is ${width}×${height}`,
    );
  }
  const data = mask.data;
  let minR = height, maxR = -1, minC = width, maxC = -1, area = 0;
  for (let y = 0, p = 0; y < height; y++) {
    for (let x = 0; x < width; x++, p++) {
      if (!data[p]) continue;
      area++;
      if (y < minR) minR = y;
      maxR = y;
      if (x < minC) minC = x;
      if (x > maxC) maxC = x;
    }
  }
  if (area === 0) return null;
  const rows = maxR - minR + 1, cols = maxC - minC + 1;
  const crop = emptyCrop(label, minR, minC, rows, cols, area);
  const stride = cols + 2;
  for (let r = 0; r < rows; r++) {
    const src = (minR + r) * width + minC;
    const dst = (r + 1) * stride + 1;
    for (let c = 0; c < cols; c++) if (data[src + c]) crop.data[dst + c] = INSIDE;
  }
  return crop;
}

function isRle(mask: BinaryMask | Rle): mask is Rle {
  return (mask as Rle).counts !== undefined;
}

/**
 * Crops of a list of (possibly overlapping) masks; instance i gets label i + 1. Empty masks are
 * skipped: they have no pixel to measure. `claims` counts the masks on each pixel.
 */
export function cropsFromMasks(masks: readonly (BinaryMask | Rle)[], width: number, height: number, source?: string): InstanceSet {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new SamstarError('LABELS_INVALID', `${where(source)}invalid frame size ${width}×${height}`);
  }
  const crops: InstanceCrop[] = [];
  masks.forEach((mask, i) => {
    const what = `${where(source)}instance ${i}`;
    const crop = isRle(mask) ? cropFromRle(mask, i + 1, width, height, what) : cropFromBinary(mask, i + 1, width, height, what);
    if (crop) crops.push(crop);
  });
  // Count the claims per pixel; the first mask to claim a pixel marks it FIRST_CLAIM in its crop.
  const claims = new Uint8Array(width * height);
  let covered = 0;
  let overlap = 0;
  for (const crop of crops) {
    const stride = crop.cols + 2;
    const data = crop.data;
    for (let r = 0; r < crop.rows; r++) {
      const src = (r + 1) * stride + 1;
      const dst = (crop.row0 + r) * width + crop.col0;
      for (let c = 0; c < crop.cols; c++) {
        if (!data[src + c]) continue;
        const n = claims[dst + c];
        if (n === 0) {
          data[src + c] = FIRST_CLAIM;
          covered++;
        } else if (n === 1) {
          overlap++;
        }
        if (n < 255) claims[dst + c] = n + 1;
      }
    }
  }
  return { width, height, crops, claims, disjoint: false, covered, overlap };
}

/** Crops of a segmenter's output. */
export function cropsFromSegmentation(segmentation: Segmentation, source?: string): InstanceSet {
  return cropsFromMasks(
    segmentation.instances.map((instance) => instance.segmentation),
    segmentation.width,
    segmentation.height,
    source,
  );
}

/** A Segmentation or a LabelImage: what measurements and rewards accept. */
export type Prediction = Segmentation | LabelImage;

export function isSegmentation(prediction: Prediction): prediction is Segmentation {
  return Array.isArray((prediction as Segmentation).instances);
}

export function cropsFromPrediction(prediction: Prediction, source?: string): InstanceSet {
  return isSegmentation(prediction) ? cropsFromSegmentation(prediction, source) : cropsFromLabels(prediction, source);
}
