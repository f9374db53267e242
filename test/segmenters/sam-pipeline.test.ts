import { mkdtempSync, writeFileSync } from 'node:fs';
import { countDecoderRuns } from '../fixtures/decoder-runs.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSynthFrame } from '../../src/data/synth.js';
import type { Frame } from '../../src/image/frame.js';
import { buildEncoder } from '../../src/segmenters/reference/encoder-graph.js';
import { fullCropLogits } from '../../src/segmenters/sam/direct-source.js';
import { loadModel } from '../../src/segmenters/sam/onnx-model.js';
import { scaleCoords } from '../../src/segmenters/sam/preprocess.js';
import { decodePrompt, encodeCrop } from '../../src/segmenters/sam/propose.js';
import { SamSegmenter, referenceModelFiles } from '../../src/segmenters/sam/segmenter.js';
import { BUNDLED_MODELS, bundledModelFiles, type BundledModelName } from '../../src/segmenters/sam/bundled-models.js';
import { cropTaps } from '../../src/segmenters/sam/upsample.js';
import { filterKnobsOf, runFilterStage } from '../../src/segmenters/sam/filter.js';
import type { Instance } from '../../src/segmenters/types.js';
import { isSamstarError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

// Both bundled models must meet SAM's contract: the hand-written one and the learned default.
const BUNDLED = Object.keys(BUNDLED_MODELS) as BundledModelName[];

function smallFrame(seed: number, width = 160, height = 128): Frame {
  return generateSynthFrame({ width, height, count: 12, diameter: { median: 14, sigma: 0.2 } }, new Rng(seed), `synth-${seed}`).frame;
}

/** Records compared field by field; NaN equals NaN (stability with an empty denominator). */
function normalise(instances: Instance[]): unknown {
  return JSON.parse(JSON.stringify(instances, (_k, v) => (typeof v === 'number' && Number.isNaN(v) ? 'NaN' : v)));
}

describe('SAM ONNX layouts', () => {
  it.each(BUNDLED)('detects the bundled %s files as the official SAM layout', async (name) => {
    const model = await loadModel(bundledModelFiles(name));
    expect(model.encoderLayout).toBe('sam-nchw');
    expect(model.decoderLayout).toBe('sam');
    expect(model.sha256.encoder).toMatch(/^[0-9a-f]{64}$/);
    await model.encoder.release();
    await model.decoder.release();
  });

  it('runs the [H,W,3] 0–255 encoder variant and gets the same embedding', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'samstar-hwc-'));
    const hwc = join(dir, 'encoder-hwc.onnx');
    writeFileSync(hwc, buildEncoder({ layout: 'hwc' }));
    const files = referenceModelFiles();
    const a = await loadModel(files);
    const b = await loadModel({ encoder: hwc, decoder: files.decoder });
    expect(b.encoderLayout).toBe('sam-hwc');
    const frame = smallFrame(1, 200, 120);
    const ea = await encodeCrop(a, frame, [0, 0, 200, 120]);
    const eb = await encodeCrop(b, frame, [0, 0, 200, 120]);
    let maxDiff = 0;
    for (let i = 0; i < ea.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ea[i] - eb[i]));
    expect(maxDiff).toBeLessThan(1e-3);
  });

  it('names the file and what it found when a model has an unknown layout', async () => {
    const files = referenceModelFiles();
    // The decoder where the encoder belongs: valid ONNX, wrong layout.
    const error = await loadModel({ encoder: files.decoder, decoder: files.decoder }).catch((e: unknown) => e);
    expect(isSamstarError(error) && error.code).toBe('MODEL_LAYOUT_UNKNOWN');
    expect(String((error as Error).message)).toContain(files.decoder);
    expect(String((error as Error).message)).toContain('point_coords');
  });

  it('rejects a file that is not ONNX, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'samstar-bad-'));
    const bad = join(dir, 'not-a-model.onnx');
    writeFileSync(bad, 'this is not a protobuf');
    const error = await loadModel({ encoder: bad, decoder: referenceModelFiles().decoder }).catch((e: unknown) => e);
    expect(isSamstarError(error) && error.code).toBe('MODEL_INVALID');
    expect(String((error as Error).message)).toContain(bad);
    const missing = await loadModel({ encoder: join(dir, 'nope.onnx'), decoder: bad }).catch((e: unknown) => e);
    expect(isSamstarError(missing) && missing.code).toBe('MODEL_NOT_FOUND');
  });
});

describe('host upsampling of low-res logits', () => {
  it.each(BUNDLED)('equals the decoder’s own `masks` output at orig_im_size (%s model)', async (name) => {
    const model = await loadModel(bundledModelFiles(name), { pruneDecoder: false });
    const pruned = await loadModel(bundledModelFiles(name));
    expect(pruned.decoder.outputNames).toEqual(['iou_predictions', 'low_res_masks']);
    for (const [w, h] of [
      [150, 110],
      [90, 200],
      [256, 256],
    ]) {
      const frame = smallFrame(3, w, h);
      const embedding = await encodeCrop(model, frame, [0, 0, w, h]);
      const [sx, sy] = scaleCoords(w / 2, h / 2, w, h);
      const out = await model.decoder.run({
        image_embeddings: new ort.Tensor('float32', embedding, [1, 256, 64, 64]),
        point_coords: new ort.Tensor('float32', Float32Array.of(sx, sy, 0, 0), [1, 2, 2]),
        point_labels: new ort.Tensor('float32', Float32Array.of(1, -1), [1, 2]),
        mask_input: new ort.Tensor('float32', new Float32Array(256 * 256), [1, 1, 256, 256]),
        has_mask_input: new ort.Tensor('float32', Float32Array.of(0), [1]),
        orig_im_size: new ort.Tensor('float32', Float32Array.of(h, w), [2]),
      });
      expect(out.masks.dims).toEqual([1, 4, h, w]);
      const masks = out.masks.data as Float32Array;
      const low = out.low_res_masks.data as Float32Array;
      const taps = cropTaps(w, h);
      for (let token = 0; token < 4; token++) {
        const mine = fullCropLogits(low.subarray(token * 65536, (token + 1) * 65536), taps);
        let maxDiff = 0;
        for (let p = 0; p < w * h; p++) maxDiff = Math.max(maxDiff, Math.abs(mine[p] - masks[token * w * h + p]));
        expect(maxDiff).toBeLessThan(1e-3);
      }
      // The fast path asks only for iou + low-res logits; they must not depend on orig_im_size.
      const answer = await decodePrompt(pruned, embedding, { x: w / 2, y: h / 2 }, w, h);
      expect(Array.from(answer.iou)).toEqual(Array.from((out.iou_predictions.data as Float32Array).slice(1, 4)));
      expect(Array.from(answer.lowRes)).toEqual(Array.from(low.slice(65536, 4 * 65536)));
    }
    for (const m of [model, pruned]) {
      await m.encoder.release();
      await m.decoder.release();
    }
  });
});

describe('cached filter stage', () => {
  let segmenter: SamSegmenter;
  beforeAll(async () => {
    segmenter = await SamSegmenter.load();
  });
  afterAll(async () => {
    await segmenter.dispose();
  });

  it('gives exactly the records of the uncached path for many random knob settings', async () => {
    const rng = new Rng(21);
    const frame = smallFrame(7, 180, 140);
    // Several crops, so the crop-edge filter and the NMS across crops are exercised too.
    const propose = { points_per_side: 8, crop_n_layers: 1, crop_overlap_ratio: 0.3 };
    const { source } = await segmenter.propose(frame, segmenter.knobs.resolve(propose));
    const direct = await segmenter.proposeDirect(frame, propose);
    let nonEmpty = 0;
    let smallRegionRuns = 0;
    const trials = 40;
    for (let trial = 0; trial < trials; trial++) {
      const values = segmenter.knobs.resolve({
        ...propose,
        pred_iou_thresh: rng.next() < 0.2 ? 0 : rng.uniform(0.3, 0.95),
        stability_score_thresh: rng.next() < 0.2 ? 0 : rng.uniform(0.3, 0.98),
        stability_score_offset: 0.05 * (1 + rng.int(40)),
        mask_threshold: -1 + 0.05 * rng.int(41),
        box_nms_thresh: rng.uniform(0.3, 0.95),
        crop_nms_thresh: rng.uniform(0.3, 0.95),
        min_mask_region_area: rng.next() < 0.5 ? 0 : rng.int(120),
      });
      const cached = runFilterStage(source, filterKnobsOf(values));
      const uncached = runFilterStage(direct, filterKnobsOf(values));
      expect(normalise(cached.instances)).toEqual(normalise(uncached.instances));
      expect(cached.stats).toEqual(uncached.stats);
      if (cached.instances.length > 0) nonEmpty++;
      if (Number(values.min_mask_region_area) > 0 && cached.instances.length > 0) smallRegionRuns++;
    }
    // The comparison must be about real masks, not empty lists.
    expect(nonEmpty).toBeGreaterThan(trials / 2);
    expect(smallRegionRuns).toBeGreaterThan(5);
  });

  it('segment() returns the filter stage’s records for the resolved knobs', async () => {
    const frame = smallFrame(7, 180, 140);
    const knobs = { points_per_side: 8, crop_n_layers: 1, crop_overlap_ratio: 0.3, pred_iou_thresh: 0.6, stability_score_thresh: 0.7 };
    const segmentation = await segmenter.segment(frame, knobs);
    const direct = runFilterStage(await segmenter.proposeDirect(frame, knobs), filterKnobsOf(segmenter.knobs.resolve(knobs)));
    expect(normalise(segmentation.instances)).toEqual(normalise(direct.instances));
    expect(segmentation.knobs.pred_iou_thresh).toBe(0.6);
    expect(segmentation.knobs.box_nms_thresh).toBe(0.7);
  });

  it('re-filtering reuses the cached proposals without running the model', async () => {
    const frame = smallFrame(8);
    const runs = countDecoderRuns(segmenter);
    try {
      await segmenter.segment(frame, { points_per_side: 6 });
      const afterFirst = runs.n;
      expect(afterFirst).toBe(36);
      await segmenter.segment(frame, { points_per_side: 6, pred_iou_thresh: 0.5, stability_score_thresh: 0.6, min_mask_region_area: 30 });
      await segmenter.segment(frame, { points_per_side: 6, points_per_batch: 5 });
      expect(runs.n).toBe(afterFirst);
      await segmenter.segment(frame, { points_per_side: 7 });
      expect(runs.n).toBe(afterFirst + 49);
    } finally {
      runs.restore();
    }
  });

  it('rejects unknown and out-of-range knobs by name', async () => {
    const frame = smallFrame(9);
    const unknown = await segmenter.segment(frame, { pred_iou_threshold: 0.5 }).catch((e: unknown) => e);
    expect(isSamstarError(unknown) && unknown.code).toBe('KNOB_UNKNOWN');
    expect(String(isSamstarError(unknown) && unknown.describe())).toContain('pred_iou_thresh');
    const range = await segmenter.segment(frame, { stability_score_thresh: 1.5 }).catch((e: unknown) => e);
    expect(isSamstarError(range) && range.code).toBe('KNOB_OUT_OF_RANGE');
    expect(String((range as Error).message)).toContain('stability_score_thresh');
  });
});
