// SAM 2 / 2.1 image models in samexporter's layout: the fixture in ../shared/models/sam2-random
// (random weights, real contract) is detected and run, and each step of the automatic generator is checked
// against the reference behaviour its README documents (facebookresearch/sam2 automatic_mask_generator.py and
// SAM2Transforms): defaults, the stretched 1024² input, per-axis point scaling with no padding point, the
// one-step bilinear upsampling, sigmoid IoU, multimask_output, use_m2m (as far as the export allows) and the
// orig_im_size variant. Skipped, saying so, where the fixtures are absent (a user's machine).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSynthFrame } from '../../src/data/synth.js';
import type { Frame } from '../../src/image/frame.js';
import { runDecoder } from '../../src/segmenters/sam/decoder-run.js';
import { buildPointGrid } from '../../src/segmenters/sam/grid.js';
import { SAM2_KNOBS } from '../../src/segmenters/sam/knob-specs.js';
import { detectDecoderLayout, detectEncoderLayout } from '../../src/segmenters/sam/onnx-layout.js';
import { loadModel } from '../../src/segmenters/sam/onnx-model.js';
import { preprocessNchw, preprocessStretched, scaleCoords } from '../../src/segmenters/sam/preprocess.js';
import { bestToken, decodePrompts, encodeCrop, promptTensors, refineMasks } from '../../src/segmenters/sam/propose.js';
import { referenceModelFiles, SamSegmenter } from '../../src/segmenters/sam/segmenter.js';
import { SamstarError } from '../../src/util/errors.js';
import { cropTaps, LOW_RES, upsampleWindow } from '../../src/segmenters/sam/upsample.js';
import { Rng } from '../../src/util/rng.js';
import { HAVE_SAM2_FIXTURES, readModel, SAM2_FIXTURES, SAM2_SKIP_NOTE, withOrigImSize, writeModel } from '../fixtures/onnx-edit.js';

if (!HAVE_SAM2_FIXTURES) console.warn(`sam2.test.ts: ${SAM2_SKIP_NOTE}`);

const files = { encoder: join(SAM2_FIXTURES, 'encoder.onnx'), decoder: join(SAM2_FIXTURES, 'decoder.onnx') };
const PLANE = LOW_RES * LOW_RES;

/** A small frame: the encoder still sees 1024², the host-side steps stay cheap. */
function smallFrame(): Frame {
  return generateSynthFrame({ width: 96, height: 64, count: 4, diameter: { median: 12, sigma: 0.2 } }, new Rng(7), 'sam2').frame;
}

/** F.interpolate(x[None,None], (h, w), mode="bilinear", align_corners=False) written out, as the reference post-processing does it. */
function interpolateBilinear(plane: Float32Array, h: number, w: number): Float64Array {
  const src = (o: number, outSize: number): [number, number, number] => {
    const s = Math.max(0, ((o + 0.5) * LOW_RES) / outSize - 0.5);
    const i0 = Math.min(Math.floor(s), LOW_RES - 1);
    return [i0, Math.min(i0 + 1, LOW_RES - 1), s - i0];
  };
  const out = new Float64Array(h * w);
  for (let y = 0; y < h; y++) {
    const [y0, y1, fy] = src(y, h);
    for (let x = 0; x < w; x++) {
      const [x0, x1, fx] = src(x, w);
      const top = (1 - fx) * plane[y0 * LOW_RES + x0] + fx * plane[y0 * LOW_RES + x1];
      const bottom = (1 - fx) * plane[y1 * LOW_RES + x0] + fx * plane[y1 * LOW_RES + x1];
      out[y * w + x] = (1 - fy) * top + fy * bottom;
    }
  }
  return out;
}

describe('SAM 2 steps that need no model', () => {
  const v = (name: string, shape: (number | string)[] = [], type = 'float32') => ({ name, shape, type });
  const encoderOut = [v('high_res_feats_0', ['a', 'b', 'c', 'd']), v('high_res_feats_1', ['e', 'f', 'g', 'h']), v('image_embed', ['i', 'j', 'k', 'l'])];
  const decoderIn = ['image_embed', 'high_res_feats_0', 'high_res_feats_1', 'point_coords', 'point_labels', 'mask_input', 'has_mask_input'].map((n) => v(n));

  it("detects samexporter's SAM 2 layouts by their names, and says what a near miss lacks", () => {
    expect(detectEncoderLayout('enc.onnx', [v('image', [1, 3, 1024, 1024])], encoderOut)).toEqual({
      layout: 'sam2',
      names: { input: 'image', output: 'image_embed', highRes: ['high_res_feats_0', 'high_res_feats_1'] },
    });
    expect(() => detectEncoderLayout('enc.onnx', [v('image', [1, 3, 1024, 1024])], encoderOut.slice(1))).toThrow(/enc\.onnx.*looks like a SAM 2 encoder but lacks high_res_feats_0/);
    expect(detectDecoderLayout('dec.onnx', decoderIn, [v('masks'), v('iou_predictions')])).toBe('sam2');
    expect(detectDecoderLayout('dec.onnx', [...decoderIn, v('orig_im_size', [2], 'int32')], [v('masks'), v('iou_predictions'), v('low_res_masks')])).toBe('sam2-orig-size');
    expect(() => detectDecoderLayout('dec.onnx', decoderIn.slice(1), [v('masks'), v('iou_predictions')])).toThrow(/dec\.onnx.*looks like a SAM 2 decoder.*missing SAM 2 inputs: image_embed/);
  });

  it("knob defaults are automatic_mask_generator.py's (l.40-55)", () => {
    const defaults = Object.fromEntries(SAM2_KNOBS.map((k) => [k.name, k.default]));
    expect(defaults).toMatchObject({
      points_per_side: 32,
      pred_iou_thresh: 0.8,
      stability_score_thresh: 0.95,
      stability_score_offset: 1,
      mask_threshold: 0,
      box_nms_thresh: 0.7,
      crop_n_layers: 0,
      crop_nms_thresh: 0.7,
      crop_overlap_ratio: 512 / 1500,
      crop_n_points_downscale_factor: 1,
      min_mask_region_area: 0,
      use_m2m: 'off',
      multimask_output: 'on',
    });
    // The one deliberate difference: points_per_batch (speed only) is 16, not 64: as fast on the CPU, a third of the memory.
    expect(defaults.points_per_batch).toBe(16);
    // Both new knobs change what the decoder is asked, so they are propose-stage knobs (the filter caches stay valid).
    expect(SAM2_KNOBS.filter((k) => k.name === 'use_m2m' || k.name === 'multimask_output').map((k) => k.stage)).toEqual(['propose', 'propose']);
  });

  it('the input is the crop stretched to 1024² with no padding (SAM 1 pads)', () => {
    const frame = smallFrame();
    const stretched = preprocessStretched(frame, [0, 0, 96, 64]);
    const padded = preprocessNchw(frame, [0, 0, 96, 64]);
    expect(stretched.dims).toEqual([1, 3, 1024, 1024]);
    // The last row is image in SAM 2, padding (zeros) in SAM 1 (a 96×64 crop fills 1024×683 there).
    const lastRow = (d: Float32Array) => d.subarray(1023 * 1024, 1024 * 1024);
    expect(lastRow(padded.data).every((v) => v === 0)).toBe(true);
    expect(lastRow(stretched.data).some((v) => v !== 0)).toBe(true);
  });

  it('points scale per axis into the 1024 frame, and no padding point is added (the graph adds it)', () => {
    expect(scaleCoords(48, 16, 96, 64, 'sam2')).toEqual([512, 256]);
    expect(scaleCoords(48, 16, 96, 64, 'sam1')).toEqual([512, 16 * (683 / 64)]);
    const point = promptTensors({ x: 48, y: 16 }, 96, 64, 'sam2');
    expect(Array.from(point.labels)).toEqual([1]);
    expect(Array.from(point.coords)).toEqual([512, 256]);
    const boxed = promptTensors({ x: 48, y: 16, box: [24, 8, 72, 32] }, 96, 64, 'sam2');
    expect(Array.from(boxed.labels)).toEqual([1, 2, 3]);
    expect(Array.from(boxed.coords)).toEqual([512, 256, 256, 128, 768, 512]);
  });

  it('grid prompts reach the decoder as grid × 1024 whatever the crop size (amg.py build_point_grid, transform_coords)', () => {
    const n = 4;
    const grid = buildPointGrid(n);
    for (const [w, h] of [
      [96, 64],
      [1000, 37],
    ]) {
      for (let i = 0; i < n * n; i++) {
        const { coords } = promptTensors({ x: grid[i * 2] * w, y: grid[i * 2 + 1] * h }, w, h, 'sam2');
        expect(coords[0]).toBeCloseTo(grid[i * 2] * 1024, 3);
        expect(coords[1]).toBeCloseTo(grid[i * 2 + 1] * 1024, 3);
      }
    }
  });

  it('logits are upsampled 256 → crop size in one bilinear step (F.interpolate, align_corners=False)', () => {
    const rng = new Rng(3);
    const plane = Float32Array.from({ length: PLANE }, () => rng.normal() * 5);
    for (const [w, h] of [
      [96, 64],
      [700, 300],
    ]) {
      const got = upsampleWindow(plane, LOW_RES, 0, 0, cropTaps(w, h, 'sam2'), { x0: 0, y0: 0, w, h });
      const want = interpolateBilinear(plane, h, w);
      let max = 0;
      for (let i = 0; i < want.length; i++) max = Math.max(max, Math.abs(got[i] - want[i]));
      expect(max).toBeLessThan(1e-9);
    }
  });
});

describe.skipIf(!HAVE_SAM2_FIXTURES)(`SAM 2 fixture (${HAVE_SAM2_FIXTURES ? 'sam2-random' : SAM2_SKIP_NOTE})`, () => {
  let segmenter: SamSegmenter;
  let frame: Frame;
  let embedding: Float32Array;
  beforeAll(async () => {
    segmenter = await SamSegmenter.load({ files });
    frame = smallFrame();
    embedding = await encodeCrop(segmenter.model, frame, [0, 0, frame.width, frame.height]);
  }, 60_000);
  afterAll(async () => segmenter?.dispose());

  it('is detected as SAM 2 (samexporter layout) with SAM 2 knobs', () => {
    expect(segmenter.describeModel().layout).toBe('sam2/sam2');
    expect(segmenter.model.family).toBe('sam2');
    expect(segmenter.model.encoderNames.highRes).toEqual(['high_res_feats_0', 'high_res_feats_1']);
    expect(segmenter.knobs.spec('pred_iou_thresh').default).toBe(0.8);
    expect(segmenter.knobs.names).toContain('use_m2m');
  });

  it('decodes 3 multimask candidates per prompt with sigmoid IoU in (0,1), the same whatever the batch', async () => {
    // The three encoder outputs, kept together: 256·64² + 32·256² + 64·128² floats.
    expect(embedding.length).toBe(256 * 64 * 64 + 32 * 256 * 256 + 64 * 128 * 128);
    const prompts = [
      { x: 20.5, y: 10.5 },
      { x: 70.5, y: 40.5 },
      { x: 50.5, y: 30.5 },
    ];
    const together = await decodePrompts(segmenter.model, embedding, prompts, frame.width, frame.height);
    const pair = await decodePrompts(segmenter.model, embedding, [prompts[2], prompts[0]], frame.width, frame.height);
    for (const a of together) {
      expect(a.iou.length).toBe(3);
      expect(a.lowRes.length).toBe(3 * PLANE);
      for (const v of a.iou) expect(v > 0 && v < 1).toBe(true);
    }
    if (segmenter.model.batchDecoding) {
      expect(pair[1]).toEqual(together[0]);
      expect(pair[0]).toEqual(together[2]);
    }
    expect(together[0].lowRes).not.toEqual(together[1].lowRes);
  });

  it('use_m2m feeds each candidate back as mask_input with its prompt and keeps the best-scored answer', async () => {
    const prompt = { x: 40.5, y: 30.5 };
    const [answer] = await decodePrompts(segmenter.model, embedding, [prompt], frame.width, frame.height);
    const [refined] = await refineMasks(segmenter.model, embedding, [prompt], [answer], frame.width, frame.height);
    const handle = { session: segmenter.model.decoder, layout: segmenter.model.decoderLayout, path: files.decoder };
    for (let t = 0; t < 3; t++) {
      // The reference's _predict(point, label, mask_input=low_res_mask) for candidate t, run here one by one.
      const [direct] = await runDecoder(handle, embedding, [prompt, prompt], frame.width, frame.height, [0, 0].map(() => answer.lowRes.subarray(t * PLANE, (t + 1) * PLANE)));
      const best = bestToken(direct.iou);
      expect(refined.iou[t]).toBe(direct.iou[best]);
      expect(refined.lowRes.subarray(t * PLANE, (t + 1) * PLANE)).toEqual(direct.lowRes.subarray(best * PLANE, (best + 1) * PLANE));
    }
    // The mask input is used: refined logits differ from the plain ones.
    expect(refined.lowRes).not.toEqual(answer.lowRes);
  });

  it('runs the automatic generator end to end; multimask_output and the filter knobs are served from the same caches', async () => {
    const knobs = { points_per_side: 4, pred_iou_thresh: 0, stability_score_thresh: 0 };
    const all = await segmenter.segment(frame, knobs);
    expect(all.stats?.proposals).toBe(3 * 16); // every prompt's three candidates are kept (l.314-327)
    expect(all.stats?.prompts).toBe(16);
    expect(all.instances.length).toBeGreaterThan(0);
    const decoded = segmenter.decoderCounts.decoded;
    const embeddings = segmenter.cacheStats().embeddings;
    expect(embeddings.bytes).toBe(embedding.byteLength); // one crop: its three SAM 2 features in one cache entry
    // pred_iou_thresh keeps IoU > thresh (l.332-334); sigmoid scores never reach 1.
    const strict = await segmenter.segment(frame, { ...knobs, pred_iou_thresh: 0.9999 });
    expect(strict.instances.length).toBe(0);
    expect(strict.stats?.droppedByIou).toBe(48);
    // multimask_output off: one candidate per prompt, its best-scored one, from the decoder answers already made (per-prompt cache).
    const single = await segmenter.segment(frame, { ...knobs, multimask_output: 'off' });
    expect(single.stats?.proposals).toBe(16);
    expect(single.stats?.prompts).toBe(16);
    expect(segmenter.decoderCounts.decoded).toBe(decoded);
    expect(segmenter.decoderCounts.reused).toBeGreaterThanOrEqual(16);
    expect(segmenter.cacheStats().embeddings.entries).toBe(embeddings.entries);
    for (const instance of all.instances) expect(instance.predicted_iou > 0 && instance.predicted_iou < 1).toBe(true);
  });

  it('the decoder variant with orig_im_size and low_res_masks loads as sam2-orig-size, pruned to its low-res logits, and answers as the plain decoder does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'samstar-sam2-'));
    const model = readModel(files.decoder);
    withOrigImSize(model);
    const variantPath = writeModel(model, join(dir, 'decoder-orig-im-size.onnx'));
    const variant = await loadModel({ encoder: files.encoder, decoder: variantPath }, { batchDecoding: false });
    try {
      expect(variant.decoderLayout).toBe('sam2-orig-size');
      expect(variant.decoder.outputNames).toEqual(['iou_predictions', 'low_res_masks']);
      expect(variant.decoder.inputNames).not.toContain('orig_im_size');
      const prompt = { x: 30.5, y: 20.5 };
      const [a] = await decodePrompts(variant, embedding, [prompt], frame.width, frame.height);
      // The plain decoder, one prompt per call as the variant runs here.
      const [b] = await runDecoder({ session: segmenter.model.decoder, layout: 'sam2', path: files.decoder }, embedding, [prompt], frame.width, frame.height);
      expect(a).toEqual(b);
      // The unpruned variant's own `masks` at (H, W) is what samstar computes on the host from the low-res logits.
      const full = await ort.InferenceSession.create(variantPath);
      const feeds = {
        image_embed: new ort.Tensor('float32', embedding.subarray(0, 256 * 64 * 64), [1, 256, 64, 64]),
        high_res_feats_0: new ort.Tensor('float32', embedding.subarray(256 * 64 * 64, 256 * 64 * 64 + 32 * 256 * 256), [1, 32, 256, 256]),
        high_res_feats_1: new ort.Tensor('float32', embedding.subarray(256 * 64 * 64 + 32 * 256 * 256), [1, 64, 128, 128]),
        point_coords: new ort.Tensor('float32', promptTensors(prompt, frame.width, frame.height, 'sam2').coords, [1, 1, 2]),
        point_labels: new ort.Tensor('float32', Float32Array.of(1), [1, 1]),
        mask_input: new ort.Tensor('float32', new Float32Array(PLANE), [1, 1, 256, 256]),
        has_mask_input: new ort.Tensor('float32', Float32Array.of(0), [1]),
        orig_im_size: new ort.Tensor('int32', Int32Array.of(frame.height, frame.width), [2]),
      };
      const out = await full.run(feeds);
      await full.release();
      expect(out.masks.dims).toEqual([1, 3, frame.height, frame.width]);
      const taps = cropTaps(frame.width, frame.height, 'sam2');
      let max = 0;
      for (let t = 0; t < 3; t++) {
        const host = upsampleWindow(a.lowRes.subarray(t * PLANE, (t + 1) * PLANE), LOW_RES, 0, 0, taps, { x0: 0, y0: 0, w: frame.width, h: frame.height });
        const model = (out.masks.data as Float32Array).subarray(t * frame.width * frame.height, (t + 1) * frame.width * frame.height);
        for (let i = 0; i < host.length; i++) max = Math.max(max, Math.abs(host[i] - model[i]));
      }
      expect(max).toBeLessThan(1e-3);
    } finally {
      await variant.encoder.release();
      await variant.decoder.release();
    }
  }, 60_000);

  it('a SAM 1-family encoder with a SAM 2 decoder is refused at load, naming both', async () => {
    const error = await loadModel({ encoder: referenceModelFiles().encoder, decoder: files.decoder }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SamstarError);
    expect((error as SamstarError).message).toMatch(/is a SAM 1-family encoder \(layout sam-nchw\) but decoder .*decoder\.onnx is a SAM 2 decoder \(layout sam2\)/);
  });
});
