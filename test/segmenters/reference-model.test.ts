// Tests of the bundled samstar reference segmenter (samstar-ref; not SAM): the SAM 1 ONNX I/O
// contract, byte-identical regeneration, the official masks post-processing chain, and behaviour on
// synthetic particles (segmentation quality, informative predicted IoU and stability).
import { describe, it, expect, beforeAll } from 'vitest';
import * as ort from 'onnxruntime-node';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDecoder } from '../../src/segmenters/reference/decoder-graph.js';
import { buildEncoder } from '../../src/segmenters/reference/encoder-graph.js';
import { generateReferenceModel } from '../../src/segmenters/reference/generate.js';

const MODEL_DIR = fileURLToPath(new URL('../../models/reference/', import.meta.url));
const SESSION: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' };
const MEAN = [123.675, 116.28, 103.53];
const STD = [58.395, 57.12, 57.375];
const N = 1024;
const LOW = 256 * 256;

// ---------- deterministic synthetic data ----------

/** mulberry32: small seeded PRNG (tests must not use Math.random). */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Particle {
  cx: number;
  cy: number;
  rx: number;
  ry: number;
  angle: number;
}

interface Scene {
  grey: Float32Array; // N×N, 0–255
  label: Int32Array; // 0 background, k+1 inside particle k
  particles: Particle[];
}

/** Ellipses with a 1 px soft edge on an uneven background (ramp + slow wave) with Gaussian noise. */
function makeScene(opts: { seed: number; dark: boolean; noise: number; contrast: number; radii: number[] }): Scene {
  const rnd = prng(opts.seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
  // Jittered 4×4 grid so particles never touch; radii cycle through opts.radii.
  const particles: Particle[] = [];
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      const r = opts.radii[(i * 4 + j) % opts.radii.length]!;
      particles.push({ cx: 128 + 256 * j + (rnd() - 0.5) * 60, cy: 128 + 256 * i + (rnd() - 0.5) * 60, rx: r * (1 + 0.4 * rnd()), ry: r, angle: rnd() * Math.PI });
    }
  }
  const grey = new Float32Array(N * N);
  const label = new Int32Array(N * N);
  for (let y = 0; y < N; y++) {
    for (let x = 0; x < N; x++) {
      const bg = opts.dark ? 200 - 50 * (x / N) + 12 * Math.sin(y / 170) : 35 + 50 * (x / N) + 12 * Math.sin(y / 170);
      let v = bg;
      particles.forEach((p, k) => {
        const dx = x + 0.5 - p.cx;
        const dy = y + 0.5 - p.cy;
        if (Math.abs(dx) > p.rx + 2 && Math.abs(dy) > p.rx + 2) return;
        const c = Math.cos(p.angle);
        const s = Math.sin(p.angle);
        const a = (dx * c + dy * s) / p.rx;
        const b = (-dx * s + dy * c) / p.ry;
        const r = Math.sqrt(a * a + b * b);
        const cover = Math.min(1, Math.max(0, (1 - r) * p.ry + 0.5));
        v += (opts.dark ? -opts.contrast : opts.contrast) * cover;
        if (r < 1) label[y * N + x] = k + 1;
      });
      grey[y * N + x] = Math.min(255, Math.max(0, v + opts.noise * gauss()));
    }
  }
  return { grey, label, particles };
}

/** SAM preprocessing of a grey h×w image (long side 1024): repeat to RGB, normalise, zero-pad to 1024². */
function samInput(grey: Float32Array, h: number, w: number): ort.Tensor {
  const x = new Float32Array(3 * N * N);
  for (let y = 0; y < h; y++) {
    for (let i = 0; i < w; i++) {
      const v = grey[y * w + i]!;
      for (let c = 0; c < 3; c++) x[c * N * N + y * N + i] = (v - MEAN[c]!) / STD[c]!;
    }
  }
  return new ort.Tensor('float32', x, [1, 3, N, N]);
}

// ---------- decoder helpers ----------

type Point = [number, number, number]; // x, y, label

interface Decoded {
  masks: Float32Array;
  dims: readonly number[];
  iou: number[];
  low: Float32Array;
  lowDims: readonly number[];
}

async function decode(
  dec: ort.InferenceSession,
  emb: ort.Tensor,
  points: Point[],
  orig: [number, number],
  mask?: { input: Float32Array; has: number },
): Promise<Decoded> {
  const out = await dec.run({
    image_embeddings: emb,
    point_coords: new ort.Tensor('float32', Float32Array.from(points.flatMap((p) => [p[0], p[1]])), [1, points.length, 2]),
    point_labels: new ort.Tensor('float32', Float32Array.from(points.map((p) => p[2])), [1, points.length]),
    mask_input: new ort.Tensor('float32', mask?.input ?? new Float32Array(LOW), [1, 1, 256, 256]),
    has_mask_input: new ort.Tensor('float32', Float32Array.from([mask?.has ?? 0]), [1]),
    orig_im_size: new ort.Tensor('float32', Float32Array.from(orig), [2]),
  });
  return {
    masks: out.masks!.data as Float32Array,
    dims: out.masks!.dims,
    iou: Array.from(out.iou_predictions!.data as Float32Array),
    low: out.low_res_masks!.data as Float32Array,
    lowDims: out.low_res_masks!.dims,
  };
}

/** A click with the padding point the ONNX decoder expects when there is no box. */
const click = (x: number, y: number): Point[] => [[x, y, 1], [0, 0, -1]];

/** SAM's stability score on full-resolution logits (offset 1, threshold 0); NaN when nothing is above −1. */
function stability(m: Float32Array, token: number, size: number): number {
  let hi = 0;
  let lo = 0;
  for (let i = token * size; i < (token + 1) * size; i++) {
    if (m[i]! > 1) hi++;
    if (m[i]! > -1) lo++;
  }
  return hi / lo;
}

function area(m: Float32Array, token: number, size: number): number {
  let a = 0;
  for (let i = token * size; i < (token + 1) * size; i++) if (m[i]! > 0) a++;
  return a;
}

function iouWith(m: Float32Array, token: number, label: Int32Array, k: number): number {
  let inter = 0;
  let uni = 0;
  for (let i = 0; i < label.length; i++) {
    const p = m[token * label.length + i]! > 0;
    const g = label[i] === k;
    if (p && g) inter++;
    if (p || g) uni++;
  }
  return uni === 0 ? 0 : inter / uni;
}

// ---------- straightforward CPU reference of the official masks post-processing ----------

/** Bilinear resize of one plane with PyTorch align_corners=False (= ONNX half_pixel) semantics. */
function resizePlane(src: Float32Array, inH: number, inW: number, outH: number, outW: number): Float32Array {
  const axis = (outN: number, inN: number) =>
    Array.from({ length: outN }, (_, o) => {
      const s = Math.max(0, ((o + 0.5) * inN) / outN - 0.5);
      const i0 = Math.min(Math.floor(s), inN - 1);
      const i1 = Math.min(i0 + 1, inN - 1);
      return { i0, i1, l: Math.min(s - i0, 1) };
    });
  const ys = axis(outH, inH);
  const xs = axis(outW, inW);
  const out = new Float32Array(outH * outW);
  for (let y = 0; y < outH; y++) {
    const { i0: y0, i1: y1, l: ly } = ys[y]!;
    for (let x = 0; x < outW; x++) {
      const { i0: x0, i1: x1, l: lx } = xs[x]!;
      const top = src[y0 * inW + x0]! * (1 - lx) + src[y0 * inW + x1]! * lx;
      const bottom = src[y1 * inW + x0]! * (1 - lx) + src[y1 * inW + x1]! * lx;
      out[y * outW + x] = top * (1 - ly) + bottom * ly;
    }
  }
  return out;
}

/** Resize 256² → 1024², keep the pre-padded top-left (h', w'), resize to (H, W); per token. */
function referenceMasks(low: Float32Array, h: number, w: number): Float32Array {
  const scale = Math.fround(1024 / Math.max(h, w));
  const hp = Math.floor(Math.fround(Math.fround(h * scale) + 0.5));
  const wp = Math.floor(Math.fround(Math.fround(w * scale) + 0.5));
  const out = new Float32Array(4 * h * w);
  for (let t = 0; t < 4; t++) {
    const big = resizePlane(low.subarray(t * LOW, (t + 1) * LOW), 256, 256, 1024, 1024);
    const crop = new Float32Array(hp * wp);
    for (let y = 0; y < hp; y++) crop.set(big.subarray(y * 1024, y * 1024 + wp), y * wp);
    out.set(resizePlane(crop, hp, wp, h, w), t * h * w);
  }
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

// ---------- tests ----------

describe('samstar reference segmenter (samstar-ref, not SAM)', () => {
  let enc: ort.InferenceSession;
  let dec: ort.InferenceSession;
  let bright: Scene;
  let brightEmb: ort.Tensor;

  beforeAll(async () => {
    enc = await ort.InferenceSession.create(join(MODEL_DIR, 'encoder.onnx'), SESSION);
    dec = await ort.InferenceSession.create(join(MODEL_DIR, 'decoder.onnx'), SESSION);
    bright = makeScene({ seed: 11, dark: false, noise: 20, contrast: 80, radii: [8, 10, 12, 16, 20, 26, 32, 14] });
    brightEmb = (await enc.run({ input_image: samInput(bright.grey, N, N) })).image_embeddings!;
  });

  it('has exactly the SAM 1 ONNX input/output names', () => {
    expect(enc.inputNames).toEqual(['input_image']);
    expect(enc.outputNames).toEqual(['image_embeddings']);
    expect([...dec.inputNames].sort()).toEqual(
      ['has_mask_input', 'image_embeddings', 'mask_input', 'orig_im_size', 'point_coords', 'point_labels'].sort(),
    );
    expect([...dec.outputNames].sort()).toEqual(['iou_predictions', 'low_res_masks', 'masks'].sort());
    expect(brightEmb.dims).toEqual([1, 256, 64, 64]);
    expect(brightEmb.type).toBe('float32');
  });

  it('is small, never called SAM, and regenerates byte-identically', () => {
    const committed = ['encoder.onnx', 'decoder.onnx'].map((f) => readFileSync(join(MODEL_DIR, f)));
    expect(committed[0]!.length + committed[1]!.length).toBeLessThan(2 * 1024 * 1024);
    for (const bytes of committed) {
      const text = bytes.toString('latin1');
      expect(text).toContain('samstar');
      expect(text).not.toMatch(/\bSAM\b(?! 1 ONNX)/); // only "the SAM 1 ONNX I/O contract" may name it
    }
    const dir = mkdtempSync(join(tmpdir(), 'samstar-ref-'));
    try {
      const files = generateReferenceModel(dir);
      expect(files.map((f) => f.bytes)).toEqual(committed.map((b) => b.length));
      expect(readFileSync(join(dir, 'encoder.onnx')).equals(committed[0]!)).toBe(true);
      expect(readFileSync(join(dir, 'decoder.onnx')).equals(committed[1]!)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('returns contract shapes for several orig_im_size values and point counts', async () => {
    const p = bright.particles[5]!;
    const prompts: Point[][] = [
      [[p.cx, p.cy, 1]],
      click(p.cx, p.cy),
      [[p.cx, p.cy, 1], [p.cx + 40, p.cy, 0], [p.cx, p.cy + 5, 1], [10, 10, 0], [0, 0, -1]],
    ];
    for (const orig of [[1024, 1024], [520, 696], [300, 200]] as Array<[number, number]>) {
      for (const points of prompts) {
        const r = await decode(dec, brightEmb, points, orig);
        expect(r.dims).toEqual([1, 4, orig[0], orig[1]]);
        expect(r.lowDims).toEqual([1, 4, 256, 256]);
        expect(r.iou).toHaveLength(4);
        for (const v of r.iou) expect(v).toBeGreaterThanOrEqual(0);
        for (const v of r.iou) expect(v).toBeLessThanOrEqual(1);
        expect(r.masks.every(Number.isFinite)).toBe(true);
      }
    }
  });

  it('ignores the padding point and uses the first label-1 point', async () => {
    const p = bright.particles[6]!;
    const plain = await decode(dec, brightEmb, [[p.cx, p.cy, 1]], [64, 64]);
    const padFirst = await decode(dec, brightEmb, [[0, 0, -1], [p.cx, p.cy, 1], [900, 900, 1]], [64, 64]);
    expect(maxAbsDiff(plain.low, padFirst.low)).toBe(0);
    expect(padFirst.iou).toEqual(plain.iou);
  });

  it('low_res_masks and iou_predictions do not depend on orig_im_size', async () => {
    for (const k of [0, 9]) {
      const p = bright.particles[k]!;
      const runs = [];
      for (const orig of [[1024, 1024], [64, 64], [520, 696], [300, 200], [1, 1]] as Array<[number, number]>) {
        runs.push(await decode(dec, brightEmb, click(p.cx, p.cy), orig));
      }
      for (const r of runs.slice(1)) {
        expect(maxAbsDiff(r.low, runs[0]!.low)).toBe(0);
        expect(r.iou).toEqual(runs[0]!.iou);
      }
    }
  });

  it('computes masks from low_res_masks exactly like the official Resize→Slice→Resize chain', async () => {
    const literal = await ort.InferenceSession.create(buildDecoder({ masksPath: 'literal' }), SESSION);
    const p = bright.particles[3]!;
    for (const orig of [[64, 64], [37, 53], [300, 200], [200, 300], [520, 696]] as Array<[number, number]>) {
      const r = await decode(dec, brightEmb, click(p.cx, p.cy), orig);
      const ref = referenceMasks(r.low, orig[0], orig[1]);
      expect(maxAbsDiff(r.masks, ref)).toBeLessThan(1e-4);
      // The same chain written with ONNX Resize/Slice ops agrees with both.
      const l = await decode(literal, brightEmb, click(p.cx, p.cy), orig);
      expect(maxAbsDiff(l.masks, ref)).toBeLessThan(1e-4);
    }
  });

  it('segments bright particles on an uneven background and scores them above background clicks', async () => {
    const rows: string[] = [];
    const particleIou: number[] = [];
    const predicted: number[] = [];
    const stab: number[] = [];
    for (let k = 0; k < bright.particles.length; k++) {
      const p = bright.particles[k]!;
      const r = await decode(dec, brightEmb, click(p.cx, p.cy), [N, N]);
      const areas = [1, 2, 3].map((t) => area(r.masks, t, N * N));
      const iou2 = iouWith(r.masks, 2, bright.label, k + 1);
      rows.push(`r=${p.ry.toFixed(0)}..${p.rx.toFixed(0)} iou2=${iou2.toFixed(3)} pred=${r.iou.map((v) => v.toFixed(2)).join('/')} stab2=${stability(r.masks, 2, N * N).toFixed(3)} areas=${areas.join('/')}`);
      expect(iou2).toBeGreaterThan(0.7);
      expect(areas[0]!).toBeLessThanOrEqual(areas[1]!);
      expect(areas[1]!).toBeLessThanOrEqual(areas[2]!);
      // Positive on the particle, negative on the background around it.
      expect(r.masks[2 * N * N + Math.floor(p.cy) * N + Math.floor(p.cx)]!).toBeGreaterThan(0);
      expect(r.masks[2 * N * N + Math.floor(p.cy) * N + Math.min(N - 1, Math.floor(p.cx + 2.5 * p.rx + 8))]!).toBeLessThan(0);
      particleIou.push(iou2);
      predicted.push(r.iou[2]!);
      stab.push(stability(r.masks, 2, N * N));
    }
    // Background clicks: between the particles of the grid, far from all of them.
    const bgPred: number[] = [];
    const bgStab: number[] = [];
    for (const [x, y] of [[256, 256], [512, 768], [768, 512], [256, 768], [512, 256]] as Array<[number, number]>) {
      const far = bright.particles.every((p) => Math.hypot(p.cx - x, p.cy - y) > p.rx + 40);
      expect(far).toBe(true);
      const r = await decode(dec, brightEmb, click(x, y), [N, N]);
      bgPred.push(Math.max(...r.iou));
      bgStab.push(Math.max(...[0, 1, 2, 3].map((t) => stability(r.masks, t, N * N) || 0)));
      rows.push(`background (${x},${y}) pred=${r.iou.map((v) => v.toFixed(2)).join('/')} stab=${[0, 1, 2, 3].map((t) => stability(r.masks, t, N * N).toFixed(2)).join('/')} areas=${[0, 1, 2, 3].map((t) => area(r.masks, t, N * N)).join('/')}`);
    }
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    console.log(
      `[samstar-ref] bright particles:\n  ${rows.join('\n  ')}\n  mean token-2 IoU ${mean(particleIou).toFixed(3)}, ` +
        `mean predicted ${mean(predicted).toFixed(3)}, mean stability ${mean(stab).toFixed(3)}; ` +
        `background clicks: max predicted ${Math.max(...bgPred).toFixed(3)}, max stability ${Math.max(...bgStab).toFixed(3)}`,
    );
    expect(mean(particleIou)).toBeGreaterThan(0.85);
    expect(Math.min(...predicted) - Math.max(...bgPred)).toBeGreaterThan(0.2);
    expect(mean(stab)).toBeGreaterThan(Math.max(...bgStab));
    expect(Math.min(...stab)).toBeGreaterThan(mean(bgStab));
  });

  it('segments dark particles on a bright background (sign follows the click)', async () => {
    const dark = makeScene({ seed: 5, dark: true, noise: 20, contrast: 70, radii: [9, 12, 16, 22, 30] });
    const emb = (await enc.run({ input_image: samInput(dark.grey, N, N) })).image_embeddings!;
    const ious: number[] = [];
    const preds: number[] = [];
    for (let k = 0; k < dark.particles.length; k += 3) {
      const p = dark.particles[k]!;
      const r = await decode(dec, emb, click(p.cx, p.cy), [N, N]);
      ious.push(iouWith(r.masks, 2, dark.label, k + 1));
      preds.push(r.iou[2]!);
    }
    const bg = await decode(dec, emb, click(512, 512), [N, N]);
    console.log(`[samstar-ref] dark particles: token-2 IoU ${ious.map((v) => v.toFixed(3)).join(' ')}, predicted ${preds.map((v) => v.toFixed(2)).join(' ')}, background click predicted max ${Math.max(...bg.iou).toFixed(3)}`);
    for (const v of ious) expect(v).toBeGreaterThan(0.7);
    expect(Math.min(...preds) - Math.max(...bg.iou)).toBeGreaterThan(0.2);
  });

  it('gives weaker, vaguer masks for faint particles than for crisp ones', async () => {
    // Same geometry, contrast 80 vs 25 over noise 20 (CNR at 256²: 16 vs 5).
    const radii = [14, 20];
    const crisp = makeScene({ seed: 3, dark: false, noise: 20, contrast: 80, radii });
    const faint = makeScene({ seed: 3, dark: false, noise: 20, contrast: 25, radii });
    const embC = (await enc.run({ input_image: samInput(crisp.grey, N, N) })).image_embeddings!;
    const embF = (await enc.run({ input_image: samInput(faint.grey, N, N) })).image_embeddings!;
    let crispStab = 0;
    let faintStab = 0;
    for (const k of [0, 5, 10]) {
      const p = crisp.particles[k]!;
      crispStab += stability((await decode(dec, embC, click(p.cx, p.cy), [N, N])).masks, 2, N * N);
      faintStab += stability((await decode(dec, embF, click(p.cx, p.cy), [N, N])).masks, 2, N * N);
    }
    console.log(`[samstar-ref] mean token-2 stability crisp ${(crispStab / 3).toFixed(3)} vs faint ${(faintStab / 3).toFixed(3)}`);
    expect(crispStab).toBeGreaterThan(faintStab);
  });

  it('uses mask_input only when has_mask_input = 1, and refinement keeps a good mask', async () => {
    const p = bright.particles[4]!;
    const base = await decode(dec, brightEmb, click(p.cx, p.cy), [64, 64]);
    const rnd = prng(99);
    const noiseMask = Float32Array.from({ length: LOW }, () => (rnd() - 0.5) * 40);
    const ignored = await decode(dec, brightEmb, click(p.cx, p.cy), [64, 64], { input: noiseMask, has: 0 });
    expect(maxAbsDiff(ignored.low, base.low)).toBe(0);

    const own = base.low.slice(2 * LOW, 3 * LOW);
    const refined = await decode(dec, brightEmb, click(p.cx, p.cy), [64, 64], { input: own, has: 1 });
    let inter = 0;
    let uni = 0;
    for (let i = 0; i < LOW; i++) {
      const a = base.low[2 * LOW + i]! > 0;
      const b = refined.low[2 * LOW + i]! > 0;
      if (a && b) inter++;
      if (a || b) uni++;
    }
    expect(inter / uni).toBeGreaterThan(0.9);
    // A "nothing here" mask prompt pulls the answer towards nothing.
    const empty = await decode(dec, brightEmb, click(p.cx, p.cy), [64, 64], { input: new Float32Array(LOW).fill(-20), has: 1 });
    expect(area(empty.low, 2, LOW)).toBeLessThan(area(base.low, 2, LOW));
  });

  it('hwc encoder variant (normalises and pads in-graph) matches the nchw encoder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'samstar-ref-hwc-'));
    try {
      const path = join(dir, 'encoder-hwc.onnx');
      writeFileSync(path, buildEncoder({ layout: 'hwc' }));
      const hwc = await ort.InferenceSession.create(path, SESSION);
      const h = 768;
      const w = 1024;
      const grey = bright.grey.subarray(0, h * w); // top 768 rows of the scene
      const rgb = new Float32Array(h * w * 3);
      for (let i = 0; i < h * w; i++) rgb.fill(grey[i]!, 3 * i, 3 * i + 3);
      const a = (await hwc.run({ input_image: new ort.Tensor('float32', rgb, [h, w, 3]) })).image_embeddings!;
      const b = (await enc.run({ input_image: samInput(grey, h, w) })).image_embeddings!;
      expect(a.dims).toEqual([1, 256, 64, 64]);
      expect(maxAbsDiff(a.data as Float32Array, b.data as Float32Array)).toBeLessThan(1e-2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
