// Batched decoding: many prompts per decoder call where the graph allows it, answers and
// records bit-identical whatever points_per_batch is, and one prompt per call for graphs that cannot batch
// (the bundled models). The batchable graph is the official decoder fixture in ../shared/models/sam1-random
// (random weights): skipped, saying so, where it is absent.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSynthFrame } from '../../src/data/synth.js';
import type { Frame } from '../../src/image/frame.js';
import { BUNDLED_MODELS, bundledModelFiles, type BundledModelName } from '../../src/segmenters/sam/bundled-models.js';
import { batchingWorks, probeEmbedding, withSymbolicBatch } from '../../src/segmenters/sam/decoder-batch.js';
import { filterKnobsOf, runFilterStage } from '../../src/segmenters/sam/filter.js';
import { loadModel, type LoadedModel } from '../../src/segmenters/sam/onnx-model.js';
import { decodePrompts, encodeCrop } from '../../src/segmenters/sam/propose.js';
import type { Prompt } from '../../src/segmenters/sam/prompts.js';
import { SamSegmenter } from '../../src/segmenters/sam/segmenter.js';
import { Rng } from '../../src/util/rng.js';
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { countDecoderRuns } from '../fixtures/decoder-runs.js';
import { HAVE_SAM1_FIXTURES, SAM1_FIXTURES, SAM1_SKIP_NOTE } from '../fixtures/onnx-edit.js';

if (!HAVE_SAM1_FIXTURES) console.warn(`batched-decoding.test.ts: ${SAM1_SKIP_NOTE}`);

const BUNDLED = Object.keys(BUNDLED_MODELS) as BundledModelName[];
const OFFICIAL = { encoder: join(SAM1_FIXTURES, 'encoder-nchw.onnx'), decoder: join(SAM1_FIXTURES, 'decoder.onnx') };

function frameOf(seed: number, width = 120, height = 100): Frame {
  return generateSynthFrame({ width, height, count: 8, diameter: { median: 14, sigma: 0.2 } }, new Rng(seed), `batch-${seed}`).frame;
}

/** Every record of the filter stage, for knobs that keep nearly everything (random weights: meaningless but many masks). */
async function records(segmenter: SamSegmenter, frame: Frame, knobs: Record<string, number | string>): Promise<string> {
  const all = { ...knobs, pred_iou_thresh: 0, stability_score_thresh: 0, box_nms_thresh: 1 };
  const source = await segmenter.proposeDirect(frame, all);
  return JSON.stringify(runFilterStage(source, filterKnobsOf(segmenter.knobs.resolve(all))).instances);
}

describe('bundled models cannot batch: one prompt per call, records unchanged', () => {
  it.each(BUNDLED)('the %s decoder fails the batching probe and loads with batchDecoding false', async (name) => {
    const files = bundledModelFiles(name);
    const session = await ort.InferenceSession.create(withSymbolicBatch(readFileSync(files.decoder)), { logSeverityLevel: 4 });
    // reference: a Reshape baked at batch 1 throws; learned: runs, but answers one prompt for three.
    expect(await batchingWorks({ session, layout: 'sam', path: files.decoder })).toBe(false);
    await session.release();
    const model = await loadModel(files);
    expect(model.batchDecoding).toBe(false);
    await model.encoder.release();
    await model.decoder.release();
  });

  it('points_per_batch 1 and 64 give the same records with one decoder call per prompt (reference model)', async () => {
    const segmenter = await SamSegmenter.load({ files: bundledModelFiles('reference') });
    const frame = frameOf(2);
    const runs = countDecoderRuns(segmenter);
    try {
      const one = await records(segmenter, frame, { points_per_side: 5, points_per_batch: 1 });
      const callsOne = runs.n;
      const many = await records(segmenter, frame, { points_per_side: 5, points_per_batch: 64 });
      expect(many).toBe(one);
      expect(callsOne).toBe(25);
      expect(runs.n - callsOne).toBe(25);
    } finally {
      runs.restore();
      await segmenter.dispose();
    }
  });
});

describe.skipIf(!HAVE_SAM1_FIXTURES)(`the official decoder batches (${HAVE_SAM1_FIXTURES ? 'official-architecture fixture' : SAM1_SKIP_NOTE})`, () => {
  let model: LoadedModel;
  let embedding: Float32Array;
  const frame = frameOf(5, 110, 90);
  beforeAll(async () => {
    model = await loadModel(OFFICIAL);
    embedding = await encodeCrop(model, frame, [0, 0, frame.width, frame.height]);
  });
  afterAll(async () => {
    await model.encoder.release();
    await model.decoder.release();
  });

  it('loads with a symbolic batch axis and passes the probe', () => {
    expect(model.batchDecoding).toBe(true);
    expect(model.decoder.inputMetadata.find((m) => m.name === 'point_coords')).toMatchObject({ shape: ['prompts', 'num_points', 2] });
  });

  it('answers are bit-identical whether prompts go one by one, in 3s, or all together; point and box prompts mixed', async () => {
    const prompts: Prompt[] = [
      { x: 10.5, y: 20.5 },
      { x: 60.5, y: 45.5 },
      { x: 30.5, y: 70.5, box: [20, 60, 42, 82] },
      { x: 90.5, y: 15.5, box: [80, 5, 101, 26] },
      { x: 55.5, y: 55.5 },
      { x: 100.5, y: 80.5 },
      { x: 5.5, y: 85.5 },
    ];
    const all = await decodePrompts(model, embedding, prompts, frame.width, frame.height);
    const singles: typeof all = [];
    for (const p of prompts) singles.push(...(await decodePrompts(model, embedding, [p], frame.width, frame.height)));
    const threes: typeof all = [];
    for (let i = 0; i < prompts.length; i += 3) threes.push(...(await decodePrompts(model, embedding, prompts.slice(i, i + 3), frame.width, frame.height)));
    for (const other of [singles, threes]) {
      expect(other.length).toBe(prompts.length);
      other.forEach((a, i) => {
        expect(a.iou).toEqual(all[i].iou);
        expect(a.lowRes).toEqual(all[i].lowRes);
      });
    }
    // The answers do depend on the prompt (so the comparison above is about something).
    expect(all[0].lowRes).not.toEqual(all[1].lowRes);
  });

  it('segmenter records are identical for points_per_batch 1, 7 and 64, with ⌈prompts / batch⌉ decoder calls', async () => {
    const segmenter = await SamSegmenter.load({ files: OFFICIAL });
    const runs = countDecoderRuns(segmenter);
    try {
      const knobs = { points_per_side: 4 };
      const calls: number[] = [];
      const results: string[] = [];
      for (const batch of [1, 7, 64]) {
        const before = runs.n;
        results.push(await records(segmenter, frame, { ...knobs, points_per_batch: batch }));
        calls.push(runs.n - before);
      }
      expect(JSON.parse(results[0]).length).toBeGreaterThan(0);
      expect(results[1]).toBe(results[0]);
      expect(results[2]).toBe(results[0]);
      expect(calls).toEqual([16, 3, 1]);
    } finally {
      runs.restore();
      await segmenter.dispose();
    }
  });

  it('the probe embedding differs between prompts, so a decoder ignoring its batch would fail the probe', () => {
    const e = probeEmbedding();
    expect(new Set(Array.from(e.subarray(0, 100))).size).toBeGreaterThan(50);
  });
});
