import { existsSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSynthFrame, type SynthFrame } from '../../src/data/synth.js';
import { bundledModelFiles, defaultModelName } from '../../src/segmenters/sam/bundled-models.js';
import { loadModel, type LoadedModel } from '../../src/segmenters/sam/onnx-model.js';
import { decodePrompt, encodeCrop, type DecoderAnswer } from '../../src/segmenters/sam/propose.js';
import { fullCropLogits } from '../../src/segmenters/sam/direct-source.js';
import { cropTaps } from '../../src/segmenters/sam/upsample.js';
import { isSamstarError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

// The bundled default model, samstar-learned (not SAM): the contract tests of the hand-written model
// (test/segmenters/sam-pipeline.test.ts runs them on both) plus what only a trained model can show:
// clicks on particles give those particles, bright or dark, and its predicted IoU tells masks on
// particles from masks on background (its ranking on real data is bench figures: `bench -- model`).

const files = bundledModelFiles('learned');

function particles(polarity: 'bright' | 'dark', seed: number): SynthFrame {
  return generateSynthFrame(
    { width: 320, height: 256, count: 14, diameter: { median: 22, sigma: 0.2 }, polarity, elongation: { fraction: 0 }, gap: 4 },
    new Rng(seed),
    `learned-${polarity}-${seed}`,
  );
}

/** Binary mask of token `t` (0-based over tokens 1..3) at frame size, from the low-res logits. */
function tokenMask(answer: DecoderAnswer, t: number, width: number, height: number): Uint8Array {
  const logits = fullCropLogits(answer.lowRes.subarray(t * 65536, (t + 1) * 65536), cropTaps(width, height));
  const mask = new Uint8Array(width * height);
  for (let i = 0; i < mask.length; i++) mask[i] = logits[i] > 0 ? 1 : 0;
  return mask;
}

function iouWithLabel(mask: Uint8Array, labels: Uint32Array, label: number): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < mask.length; i++) {
    const t = labels[i] === label ? 1 : 0;
    inter += mask[i] & t;
    union += mask[i] | t;
  }
  return union === 0 ? 0 : inter / union;
}

/** The largest value (a loop: spreading 262 144 values into Math.max overflows the stack). */
function largest(values: Float32Array): number {
  let m = -Infinity;
  for (const v of values) m = Math.max(m, v);
  return m;
}

describe('samstar-learned, the default bundled model', () => {
  let model: LoadedModel;
  beforeAll(async () => {
    model = await loadModel(files);
  });
  afterAll(async () => {
    await model.encoder.release();
    await model.decoder.release();
  });

  it('is the default, and SAMSTAR_MODEL picks a bundled model by name or names the bad value', () => {
    expect(existsSync(files.encoder) && existsSync(files.decoder)).toBe(true);
    expect(defaultModelName({})).toBe('learned');
    expect(defaultModelName({ SAMSTAR_MODEL: 'reference' })).toBe('reference');
    let error: unknown;
    try {
      defaultModelName({ SAMSTAR_MODEL: 'sam-h' });
    } catch (e) {
      error = e;
    }
    expect(isSamstarError(error) && error.code).toBe('ARGUMENT_INVALID');
    expect(String((error as Error).message)).toContain('sam-h');
  });

  it('loads as the official SAM 1 layout with the decoder pruned to iou + low-res logits', () => {
    expect(model.encoderLayout).toBe('sam-nchw');
    expect(model.decoderLayout).toBe('sam');
    expect(model.decoder.outputNames).toEqual(['iou_predictions', 'low_res_masks']);
  });

  it('is deterministic for a frame', async () => {
    const { frame } = particles('bright', 5);
    const box: [number, number, number, number] = [0, 0, frame.width, frame.height];
    const a = await encodeCrop(model, frame, box);
    const b = await encodeCrop(model, frame, box);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    const p = { x: 100.5, y: 80.5 };
    const first = await decodePrompt(model, a, p, frame.width, frame.height);
    const second = await decodePrompt(model, a, p, frame.width, frame.height);
    expect(Array.from(second.iou)).toEqual(Array.from(first.iou));
    expect(Buffer.from(second.lowRes.buffer).equals(Buffer.from(first.lowRes.buffer))).toBe(true);
  });

  for (const polarity of ['bright', 'dark'] as const) {
    it(`segments ${polarity} particles from one click each`, async () => {
      const synth = particles(polarity, polarity === 'bright' ? 11 : 12);
      const { frame, labels } = synth;
      const embedding = await encodeCrop(model, frame, [0, 0, frame.width, frame.height]);
      const best: number[] = [];
      const picked: number[] = [];
      for (const particle of synth.particles) {
        const answer = await decodePrompt(model, embedding, { x: particle.cx + 0.5, y: particle.cy + 0.5 }, frame.width, frame.height);
        const ious = [0, 1, 2].map((t) => iouWithLabel(tokenMask(answer, t, frame.width, frame.height), labels.data, particle.label));
        best.push(Math.max(...ious));
        const top = [0, 1, 2].reduce((a, t) => (answer.iou[t] > answer.iou[a] ? t : a), 0);
        picked.push(ious[top]);
      }
      const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
      expect(mean(best)).toBeGreaterThan(0.8);
      expect(mean(picked)).toBeGreaterThan(0.7);
    });
  }

  it('gives background clicks a lower predicted IoU than particle clicks', async () => {
    const synth = particles('bright', 13);
    const { frame, labels } = synth;
    const embedding = await encodeCrop(model, frame, [0, 0, frame.width, frame.height]);
    const rng = new Rng(4);
    const background: number[] = [];
    while (background.length < 12) {
      const x = Math.floor(rng.uniform(0, frame.width));
      const y = Math.floor(rng.uniform(0, frame.height));
      // at least 6 px from any particle
      let near = false;
      for (let dy = -6; dy <= 6 && !near; dy++) {
        for (let dx = -6; dx <= 6 && !near; dx++) {
          const yy = Math.min(frame.height - 1, Math.max(0, y + dy));
          const xx = Math.min(frame.width - 1, Math.max(0, x + dx));
          near = labels.data[yy * frame.width + xx] !== 0;
        }
      }
      if (near) continue;
      const answer = await decodePrompt(model, embedding, { x: x + 0.5, y: y + 0.5 }, frame.width, frame.height);
      background.push(Math.max(...answer.iou));
    }
    const onParticles: number[] = [];
    for (const particle of synth.particles) {
      const answer = await decodePrompt(model, embedding, { x: particle.cx + 0.5, y: particle.cy + 0.5 }, frame.width, frame.height);
      onParticles.push(Math.max(...answer.iou));
    }
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
    expect(median(background)).toBeLessThan(median(onParticles) - 0.2);
  });

  it('blends mask_input in where has_mask_input is 1, and predicts the IoU of the blended mask', async () => {
    // The full (unpruned) decoder, fed as the official contract describes: a previous mask M blends in
    // as 0.5·logits + 0.5·M. An all-background M (below −2·max logit) leaves no pixel inside, and the IoU
    // head, which reads the statistics of the mask it returns, must then rate every token as a poor mask.
    const synth = particles('bright', 21);
    const { frame } = synth;
    const embedding = await encodeCrop(model, frame, [0, 0, frame.width, frame.height]);
    const session = await ort.InferenceSession.create(files.decoder);
    const scale = 1024 / Math.max(frame.width, frame.height);
    const particle = synth.particles[0];
    const run = async (hasMask: number, fill: number) =>
      session.run({
        image_embeddings: new ort.Tensor('float32', embedding, [1, 256, 64, 64]),
        point_coords: new ort.Tensor('float32', Float32Array.of((particle.cx + 0.5) * scale, (particle.cy + 0.5) * scale, 0, 0), [1, 2, 2]),
        point_labels: new ort.Tensor('float32', Float32Array.of(1, -1), [1, 2]),
        mask_input: new ort.Tensor('float32', new Float32Array(65536).fill(fill), [1, 1, 256, 256]),
        has_mask_input: new ort.Tensor('float32', Float32Array.of(hasMask), [1]),
        orig_im_size: new ort.Tensor('float32', Float32Array.of(frame.height, frame.width), [2]),
      });
    try {
      const plain = await run(0, 1e6); // has_mask_input 0: mask_input is ignored
      const low = plain.low_res_masks.data as Float32Array;
      const fill = -2 * largest(low) - 10;
      const blended = await run(1, fill);
      const mixed = blended.low_res_masks.data as Float32Array;
      let worst = 0;
      for (let i = 0; i < low.length; i++) worst = Math.max(worst, Math.abs(mixed[i] - 0.5 * (low[i] + fill)) / Math.max(1, Math.abs(low[i]), Math.abs(fill)));
      expect(worst).toBeLessThan(1e-4);
      expect(largest(low.subarray(0, 65536))).toBeGreaterThan(0); // the plain answer has the particle
      expect(largest(mixed)).toBeLessThan(0);
      const plainIou = plain.iou_predictions.data as Float32Array;
      const mixedIou = blended.iou_predictions.data as Float32Array;
      expect(Math.max(...plainIou)).toBeGreaterThan(0.6);
      expect(Math.max(...mixedIou)).toBeLessThan(Math.max(...plainIou) - 0.3);
    } finally {
      await session.release();
    }
  });

  it('segments the particle inside a box prompt', async () => {
    const synth = particles('dark', 14);
    const { frame, labels } = synth;
    const embedding = await encodeCrop(model, frame, [0, 0, frame.width, frame.height]);
    const ious: number[] = [];
    for (const particle of synth.particles.slice(0, 6)) {
      const r = particle.diameter / 2 + 2;
      const box = [particle.cx - r, particle.cy - r, particle.cx + r, particle.cy + r] as const;
      const answer = await decodePrompt(model, embedding, { x: particle.cx, y: particle.cy, box }, frame.width, frame.height);
      ious.push(Math.max(...[0, 1, 2].map((t) => iouWithLabel(tokenMask(answer, t, frame.width, frame.height), labels.data, particle.label))));
    }
    expect(ious.reduce((s, x) => s + x, 0) / ious.length).toBeGreaterThan(0.7);
  });
});
