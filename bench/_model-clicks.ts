/**
 * Single-click quality of a promptable model, as `bench model` reports it: one foreground click at
 * each labelled object's most interior point (the maximum of its Euclidean distance transform),
 * decoded through the project's own SAM pipeline (encodeCrop → decodePrompt on the pruned decoder →
 * host upsampling of the 256² low-res logits to the image, binarised at 0 as the generator does).
 * Per object: the IoU of each multimask output (tokens 1–3) with the object, and its predicted IoU.
 */
import { mostInteriorPixel } from '../src/image/distance-transform.js';
import { labelAreas } from '../src/masks/label-image.js';
import type { LabelImage } from '../src/masks/types.js';
import { averageRanks } from '../src/report/stats.js';
import { fullCropLogits } from '../src/segmenters/sam/direct-source.js';
import type { LoadedModel } from '../src/segmenters/sam/onnx-model.js';
import { decodePrompt, encodeCrop } from '../src/segmenters/sam/propose.js';
import { cropTaps, LOW_RES } from '../src/segmenters/sam/upsample.js';
import { Rng } from '../src/util/rng.js';
import type { LabelledImage } from './_model-data.js';

/** One clicked object: true IoU and predicted IoU of tokens 1, 2, 3. */
export interface ClickRecord {
  readonly image: string;
  readonly label: number;
  /** The object's equivalent diameter at the 256² working scale (the image's long side at 256 px). */
  readonly diameter: number;
  readonly iou: [number, number, number];
  readonly predicted: [number, number, number];
}

export interface ClickFigures {
  readonly objects: number;
  /** Mean over objects of the best IoU among tokens 1–3 (an oracle pick). */
  readonly click_miou: number;
  /** Mean over objects of the IoU of the token with the highest predicted IoU (what a user gets). */
  readonly click_miou_pred: number;
  /** Spearman rank correlation of predicted and true IoU over all masks (3 per object). */
  readonly spearman: number;
}

/**
 * Up to `maxObjects` objects of one set, drawn with the seed (without replacement, over all
 * images), clicked and scored. `log` gets a line per image.
 */
export async function clickSet(model: LoadedModel, images: readonly LabelledImage[], maxObjects: number, seed: number, log: (line: string) => void): Promise<ClickRecord[]> {
  // Every (image, label) pair of the set with the object's area; labels only, frames are loaded for the drawn objects.
  const all: { image: number; label: number; area: number }[] = [];
  for (const [i, item] of images.entries()) {
    const { values, areas } = labelAreas(await item.loadTruth());
    values.forEach((label, j) => all.push({ image: i, label, area: areas[j] }));
  }
  const drawn = new Rng(seed).shuffle(all).slice(0, maxObjects);
  const byImage = new Map<number, { label: number; area: number }[]>();
  for (const o of drawn) byImage.set(o.image, [...(byImage.get(o.image) ?? []), o]);

  const records: ClickRecord[] = [];
  for (const [i, objects] of [...byImage.entries()].sort((a, b) => a[0] - b[0])) {
    const started = performance.now();
    const { frame, truth } = await images[i].load();
    const { width, height } = frame;
    const embedding = await encodeCrop(model, frame, [0, 0, width, height]);
    const taps = cropTaps(width, height);
    for (const { label, area } of objects.sort((a, b) => a.label - b.label)) {
      const point = clickPoint(truth, label);
      if (!point) continue;
      const diameter = (2 * Math.sqrt(area / Math.PI) * LOW_RES) / Math.max(width, height);
      // Pixel centres, as the generator places blob prompts (pixel i spans [i, i + 1)).
      const answer = await decodePrompt(model, embedding, { x: point.x + 0.5, y: point.y + 0.5 }, width, height);
      const iou = [0, 1, 2].map((t) => maskIou(fullCropLogits(answer.lowRes.subarray(t * LOW_RES * LOW_RES, (t + 1) * LOW_RES * LOW_RES), taps), truth, label));
      records.push({ image: images[i].id, label, diameter, iou: iou as ClickRecord['iou'], predicted: [answer.iou[0], answer.iou[1], answer.iou[2]] });
    }
    log(`  ${images[i].id}: ${objects.length} clicks, ${(performance.now() - started).toFixed(0)} ms`);
  }
  return records;
}

export function clickFigures(records: readonly ClickRecord[]): ClickFigures {
  const n = records.length;
  const best = records.map((r) => Math.max(...r.iou));
  const picked = records.map((r) => r.iou[argmax(r.predicted)]);
  return {
    objects: n,
    click_miou: mean(best),
    click_miou_pred: mean(picked),
    spearman: spearman(
      records.flatMap((r) => r.predicted),
      records.flatMap((r) => r.iou),
    ),
  };
}

/** Upper edges (working px, exclusive) of the size bins of `clickFiguresBySize`; the last bin is open. */
export const SIZE_BINS = [3, 5, 8, 12, 20] as const;

/**
 * Best-of-3 click mIoU per object size at the working scale, keyed "<3", "3-5", …, "≥20": where a
 * model's clicks fail is mostly a matter of size (one working pixel is a 4×4 block of the 1024² frame).
 */
export function clickFiguresBySize(records: readonly ClickRecord[]): Record<string, { objects: number; click_miou: number }> {
  const out: Record<string, { objects: number; click_miou: number }> = {};
  for (let b = 0; b <= SIZE_BINS.length; b++) {
    const low = b === 0 ? 0 : SIZE_BINS[b - 1];
    const high = b === SIZE_BINS.length ? Infinity : SIZE_BINS[b];
    const inBin = records.filter((r) => r.diameter >= low && r.diameter < high);
    if (inBin.length === 0) continue;
    const key = b === 0 ? `<${high}` : high === Infinity ? `≥${low}` : `${low}-${high}`;
    out[key] = { objects: inBin.length, click_miou: mean(inBin.map((r) => Math.max(...r.iou))) };
  }
  return out;
}

/** The object's most interior pixel (ties: the first in raster order), found on its bounding box. */
export function clickPoint(truth: LabelImage, label: number): { x: number; y: number } | null {
  const { width, height, data } = truth;
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[y * width + x] !== label) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  if (x1 < 0) return null;
  // Outside the box nothing is the object, so the crop's outside counting as background changes no
  // distance; at the image edge it makes the click the centre of the object's visible part.
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const mask = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) mask[y * w + x] = data[(y + y0) * width + x + x0] === label ? 1 : 0;
  const p = mostInteriorPixel(mask, w, h);
  return p && { x: p.x + x0, y: p.y + y0 };
}

/** IoU of {logits > 0} with the pixels of `label`. */
function maskIou(logits: Float64Array, truth: LabelImage, label: number): number {
  let inter = 0, predicted = 0, object = 0;
  const data = truth.data;
  for (let i = 0; i < logits.length; i++) {
    const p = logits[i] > 0;
    const o = data[i] === label;
    if (p) predicted++;
    if (o) object++;
    if (p && o) inter++;
  }
  const union = predicted + object - inter;
  return union > 0 ? inter / union : 0;
}

/** Pearson correlation of the average ranks (ties share their mean rank); NaN when either side is constant. */
export function spearman(a: readonly number[], b: readonly number[]): number {
  const ra = averageRanks(a);
  const rb = averageRanks(b);
  const ma = mean(ra);
  const mb = mean(rb);
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < ra.length; i++) {
    sab += (ra[i] - ma) * (rb[i] - mb);
    saa += (ra[i] - ma) ** 2;
    sbb += (rb[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

function argmax(values: readonly number[]): number {
  let k = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[k]) k = i;
  return k;
}

function mean(values: readonly number[]): number {
  return values.length ? values.reduce((s, v) => s + v, 0) / values.length : Number.NaN;
}
