/**
 * Model speed as the segmenter sees it: encoder milliseconds per 1024² frame (preprocessing
 * included) and decoder milliseconds per single-point prompt on the pruned decoder (what
 * `loadModel` gives the segmenter), one onnxruntime thread, medians after a warm-up.
 * Several models are timed interleaved, the order reversed every round (A B, B A, …), so a machine
 * that gets busier or quieter during the run, or the garbage one run leaves for the next, shifts
 * them alike and their ratios stay fair. Prompts are timed in runs of PROMPT_RUN per model, as the
 * generator decodes a crop's grid points one after another on one embedding: alternating models on
 * every prompt measured, on top of the decoder, the refill of the caches that the other model's
 * weights and embedding had evicted (0.1–0.6 ms per prompt on each model on the 2-core machine).
 */
import { statSync } from 'node:fs';
import { generateSynthFrame } from '../src/data/synth.js';
import { loadModel, type LoadedModel, type ModelFiles } from '../src/segmenters/sam/onnx-model.js';
import { decodePrompt, encodeCrop, type Embedding } from '../src/segmenters/sam/propose.js';
import { Rng } from '../src/util/rng.js';
import { median } from './_machine.js';

const PROMPT_RUN = 16;

export interface SpeedFigures {
  readonly encoder_ms: number;
  readonly decoder_ms: number;
  /** Encoder + decoder file sizes. */
  readonly bytes: number;
}

export async function measureSpeed(models: readonly ModelFiles[], options: { encodes: number; prompts: number; seed: number }): Promise<SpeedFigures[]> {
  const loaded: LoadedModel[] = [];
  try {
    for (const files of models) loaded.push(await loadModel(files, { intraOpThreads: 1 }));
    const rng = new Rng(options.seed);
    const { frame } = generateSynthFrame({ width: 1024, height: 1024, count: 150, diameter: { median: 24, sigma: 0.25 } }, rng.fork(), 'bench-model-speed');
    const box: [number, number, number, number] = [0, 0, 1024, 1024];
    const embeddings: Embedding[] = [];
    // Warm-up: the first runs of a session allocate and pick kernels.
    for (const model of loaded) {
      embeddings.push(await encodeCrop(model, frame, box));
      await encodeCrop(model, frame, box);
      for (let i = 0; i < 50; i++) await decodePrompt(model, embeddings[embeddings.length - 1], { x: 512, y: 512 }, 1024, 1024);
    }
    const encodes: number[][] = loaded.map(() => []);
    const order = (round: number): number[] => (round % 2 ? loaded.map((_, m) => loaded.length - 1 - m) : loaded.map((_, m) => m));
    for (let i = 0; i < options.encodes; i++) {
      for (const m of order(i)) {
        const model = loaded[m];
        const t0 = performance.now();
        await encodeCrop(model, frame, box);
        encodes[m].push(performance.now() - t0);
      }
    }
    const decodes: number[][] = loaded.map(() => []);
    for (let round = 0; round * PROMPT_RUN < options.prompts; round++) {
      const prompts = Array.from({ length: PROMPT_RUN }, () => ({ x: rng.uniform(0, 1024), y: rng.uniform(0, 1024) }));
      for (const m of order(round)) {
        const model = loaded[m];
        for (const prompt of prompts) {
          const t0 = performance.now();
          await decodePrompt(model, embeddings[m], prompt, 1024, 1024);
          decodes[m].push(performance.now() - t0);
        }
      }
    }
    return models.map((files, m) => ({
      encoder_ms: median(encodes[m]),
      decoder_ms: median(decodes[m]),
      bytes: statSync(files.encoder).size + statSync(files.decoder).size,
    }));
  } finally {
    for (const model of loaded) {
      await model.encoder.release();
      await model.decoder.release();
    }
  }
}
