/**
 * Small, dense particles: decoder runs, wall time and F1@0.5 for SAM with a
 * 32×32 grid, a 64×64 grid, blob prompts, and for the blob segmenter alone,
 * on 1024² synthetic frames with 300–800 particles of 4–10 px diameter.
 *
 * F1 is reported at fixed filter knobs and as the best over a small filter
 * grid (re-filtering is cheap, so every strategy gets its best filter knobs).
 */
import { generateSynthFrame, type SynthFrame } from '../src/data/synth.js';
import { scorePrediction } from '../src/measure/index.js';
import { BlobSegmenter } from '../src/segmenters/blobs/segmenter.js';
import type { KnobValues } from '../src/segmenters/knobs.js';
import { SamSegmenter } from '../src/segmenters/sam/segmenter.js';
import type { Segmenter } from '../src/segmenters/types.js';
import { Rng } from '../src/util/rng.js';
import { machineLine } from './_machine.js';

const BLOB_KNOBS = { blob_sigma_min: 1, blob_sigma_max: 4, blob_sigma_steps: 6, blob_threshold: 4 };
const FIXED_FILTER = { pred_iou_thresh: 0.7, stability_score_thresh: 0.7 };
const FILTER_GRID = [0.5, 0.6, 0.7, 0.8, 0.9].flatMap((iou) => [0.5, 0.7, 0.85].map((st) => ({ pred_iou_thresh: iou, stability_score_thresh: st })));

interface Row {
  runs: number;
  ms: number;
  f1: number;
  best_f1: number;
}

function frames(): SynthFrame[] {
  const rng = new Rng(2024);
  return [300, 800].map((count, i) =>
    generateSynthFrame(
      { width: 1024, height: 1024, count, diameter: { median: 6.5, sigma: 0.25, min: 4 }, elongation: { fraction: 0.1 }, gap: 2, shading: 'dome', contrast: 0.5 },
      rng.fork(),
      `prompts-${i}`,
    ),
  );
}

async function measure(segmenter: Segmenter, knobs: KnobValues, data: SynthFrame[], filterGrid: KnobValues[]): Promise<Row> {
  let runs = 0;
  if (segmenter instanceof SamSegmenter) {
    const original = segmenter.model.decoder.run.bind(segmenter.model.decoder);
    segmenter.model.decoder.run = ((...args: Parameters<typeof original>) => {
      runs++;
      return original(...args);
    }) as typeof original;
  }
  let ms = 0;
  let f1 = 0;
  let best = 0;
  for (const synth of data) {
    const t0 = performance.now();
    const result = await segmenter.segment(synth.frame, knobs);
    ms += performance.now() - t0;
    f1 += scorePrediction(result, synth.labels).f1;
    let bestHere = 0;
    for (const filter of filterGrid) bestHere = Math.max(bestHere, scorePrediction(await segmenter.segment(synth.frame, { ...knobs, ...filter }), synth.labels).f1);
    best += bestHere;
  }
  await segmenter.dispose();
  const n = data.length;
  return { runs: Math.round(runs / n), ms: Math.round(ms / n), f1: Number((f1 / n).toFixed(3)), best_f1: Number((best / n).toFixed(3)) };
}

export async function run(): Promise<void> {
  console.log(machineLine());
  const data = frames();
  console.log(`frames: ${data.map((d) => `${d.particles.length} particles`).join(', ')} (1024², 4–10 px diameter)`);
  const rows: Record<string, Row> = {};
  rows.grid32 = await measure(await SamSegmenter.load(), { points_per_side: 32, ...FIXED_FILTER }, data, FILTER_GRID);
  console.log('grid32', rows.grid32);
  rows.grid64 = await measure(await SamSegmenter.load(), { points_per_side: 64, ...FIXED_FILTER }, data, FILTER_GRID);
  console.log('grid64', rows.grid64);
  rows.blobs = await measure(await SamSegmenter.load(), { prompts: 'blobs', ...BLOB_KNOBS, ...FIXED_FILTER }, data, FILTER_GRID);
  console.log('blobs', rows.blobs);
  const blobGrid = [2, 3, 4, 6, 8].flatMap((t) => [0.8, 1, 1.2].map((s) => ({ blob_threshold: t, radius_scale: s })));
  rows.blob_segmenter = await measure(new BlobSegmenter(), { ...BLOB_KNOBS }, data, blobGrid);
  console.log('blob_segmenter', rows.blob_segmenter);
  console.log(
    `blob prompts: ${(rows.blobs.runs / rows.grid64.runs).toFixed(3)} of the 64-grid's decoder runs, F1 ${rows.blobs.best_f1} vs ${rows.grid64.best_f1} (best filter knobs); ` +
      `${(rows.grid64.ms / rows.blobs.ms).toFixed(1)}× faster`,
  );
  console.log(JSON.stringify({ bench: 'prompts', ...rows }));
}
