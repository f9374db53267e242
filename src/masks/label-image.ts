import { SamstarError } from '../util/errors.js';
import { rleArea } from './rle.js';
import type { BinaryMask, LabelImage, Rle } from './types.js';

/**
 * Paint instance masks into one label image; label i+1 is masks[i].
 *
 * Where masks overlap, the pixel goes to the SMALLER mask: masks are painted in
 * decreasing-area order, so a small particle lying on a big false-positive
 * region (SAM's "whole cluster" masks) stays visible. Equal areas: the earlier
 * mask wins. A mask fully covered by smaller ones leaves its label unused.
 */
export function masksToLabelImage(masks: readonly (BinaryMask | Rle)[], width: number, height: number): LabelImage {
  const data = new Uint32Array(width * height);
  masks.forEach((mask, i) => checkSize(mask, i, width, height));
  const areas = masks.map((m) => (isRle(m) ? rleArea(m) : countOnes(m.data)));
  // Largest first; among equals, later index first so the earlier mask is painted last and wins.
  const order = masks.map((_, i) => i).sort((a, b) => areas[b] - areas[a] || b - a);
  for (const i of order) {
    const mask = masks[i];
    if (isRle(mask)) paintRle(data, mask, width, height, i + 1);
    else paintMask(data, mask.data, i + 1);
  }
  return { width, height, data };
}

export interface LabelledMask {
  readonly label: number;
  readonly mask: BinaryMask;
  readonly area: number;
}

/**
 * One full-size binary mask per label present, in increasing label order.
 * (Full-size masks cost width·height bytes each; for many instances prefer
 * working on the label image directly.)
 */
export function labelImageToMasks(label: LabelImage): LabelledMask[] {
  const { width, height, data } = label;
  const { values, areas } = labelAreas(label);
  const index = new Map<number, number>();
  values.forEach((v, k) => index.set(v, k));
  const masks = values.map(() => new Uint8Array(width * height));
  let lastValue = 0;
  let lastMask: Uint8Array | undefined;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v === 0) continue;
    // Instances are contiguous runs along rows: cache the last lookup to avoid a Map hit per pixel.
    if (v !== lastValue) {
      lastValue = v;
      lastMask = masks[index.get(v) as number];
    }
    (lastMask as Uint8Array)[i] = 1;
  }
  return values.map((v, k) => ({ label: v, mask: { width, height, data: masks[k] }, area: areas[k] }));
}

export interface Relabelled {
  /** Labels 1..count, in increasing order of the old label values. */
  readonly label: LabelImage;
  readonly count: number;
  /** oldLabels[new] = old label; [0] = 0. */
  readonly oldLabels: Uint32Array;
}

/** Renumber the labels present to 1..count, keeping their order (gaps from deleted instances go away). */
export function relabelSequential(label: LabelImage): Relabelled {
  const { values } = labelAreas(label);
  const oldLabels = new Uint32Array(values.length + 1);
  oldLabels.set(values, 1);
  const out = new Uint32Array(label.data.length);
  const src = label.data;
  const map = new Map<number, number>();
  values.forEach((v, k) => map.set(v, k + 1));
  let lastOld = 0;
  let lastNew = 0;
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (v === 0) continue;
    if (v !== lastOld) {
      lastOld = v;
      lastNew = map.get(v) as number;
    }
    out[i] = lastNew;
  }
  return { label: { width: label.width, height: label.height, data: out }, count: values.length, oldLabels };
}

/** The distinct non-zero labels (ascending) and their pixel counts. */
export function labelAreas(label: LabelImage): { values: number[]; areas: number[] } {
  const data = label.data;
  let max = 0;
  for (let i = 0; i < data.length; i++) if (data[i] > max) max = data[i];
  if (max <= 1 << 22) {
    // Dense counting: a typed array indexed by label is far faster than a Map.
    const counts = new Uint32Array(max + 1);
    for (let i = 0; i < data.length; i++) counts[data[i]]++;
    const values: number[] = [];
    const areas: number[] = [];
    for (let v = 1; v <= max; v++) {
      if (counts[v] > 0) {
        values.push(v);
        areas.push(counts[v]);
      }
    }
    return { values, areas };
  }
  const counts = new Map<number, number>();
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v !== 0) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  const values = [...counts.keys()].sort((a, b) => a - b);
  return { values, areas: values.map((v) => counts.get(v) as number) };
}

function isRle(mask: BinaryMask | Rle): mask is Rle {
  return (mask as Rle).counts !== undefined;
}

function checkSize(mask: BinaryMask | Rle, i: number, width: number, height: number): void {
  const [h, w] = isRle(mask) ? mask.size : [mask.height, mask.width];
  if (w !== width || h !== height) {
    throw new SamstarError('SIZE_MISMATCH', `masksToLabelImage: mask ${i} is ${w}×${h}; expected ${width}×${height} (width×height)`);
  }
  if (isRle(mask)) {
    let total = 0;
    for (const run of mask.counts) total += run;
    if (total !== width * height) {
      throw new SamstarError('SIZE_MISMATCH', `masksToLabelImage: RLE ${i} covers ${total} pixels; expected ${width}×${height} = ${width * height}`);
    }
  } else if (mask.data.length !== width * height) {
    throw new SamstarError('SIZE_MISMATCH', `masksToLabelImage: mask ${i} has ${mask.data.length} pixels; expected ${width * height}`);
  }
}

function countOnes(data: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < data.length; i++) if (data[i] !== 0) n++;
  return n;
}

function paintMask(out: Uint32Array, data: Uint8Array, value: number): void {
  for (let i = 0; i < data.length; i++) if (data[i] !== 0) out[i] = value;
}

/** Paint an RLE's foreground runs straight into the row-major image (runs walk columns). */
function paintRle(out: Uint32Array, rle: Rle, width: number, height: number, value: number): void {
  let position = 0;
  const counts = rle.counts;
  for (let r = 0; r < counts.length; r++) {
    const run = counts[r];
    if (r % 2 === 1) {
      let x = Math.floor(position / height);
      let y = position - x * height;
      for (let k = 0; k < run; k++) {
        out[y * width + x] = value;
        if (++y === height) {
          y = 0;
          x++;
        }
      }
    }
    position += run;
  }
}
