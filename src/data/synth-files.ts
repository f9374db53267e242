import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { writeLabelPng } from '../masks/label-png.js';
import { writeFileAtomic } from '../util/fs.js';
import { Rng } from '../util/rng.js';
import { iterateSynthSeries, type SynthParticle } from './synth.js';
import { parseSynthSeriesOptions, type SynthSeriesOptions, type SynthSeriesOptionsInput } from './synth-options.js';

/** What `truth.json` holds: enough to regenerate the set and to score against it without the PNGs. */
export interface SynthTruth {
  readonly generator: 'samstar-synth';
  readonly version: 1;
  readonly seed: number;
  /** All options with defaults filled in. */
  readonly options: SynthSeriesOptions;
  readonly frames: {
    readonly index: number;
    readonly image: string;
    readonly labels: string;
    /** The contrast-stretched frame's content hash (Frame.hash), for cache checks. */
    readonly hash: string;
    readonly requested: number;
    /** Median diameter and contrast this frame was drawn with (they drift along a series). */
    readonly diameterMedian: number;
    readonly contrast: number;
    readonly particles: SynthParticle[];
  }[];
}

export interface WrittenSynthDataset {
  readonly outDir: string;
  readonly images: string[];
  readonly labels: string[];
  readonly truth: string;
  /** Frames where fewer particles fit than were requested. */
  readonly crowded: { index: number; placed: number; requested: number }[];
}

export interface WriteSynthOptions {
  /** Called after each frame is written (for progress bars). */
  readonly onFrame?: (done: number, total: number) => void;
}

/**
 * Write a synthetic dataset: `images/frame-0000.png` (8- or 16-bit grey),
 * `labels/frame-0000.png` (16-bit instance labels) and `truth.json`, each file
 * atomically, truth.json last (its presence means the set is complete).
 */
export async function writeSynthDataset(
  outDir: string,
  options: SynthSeriesOptionsInput,
  seed: number,
  write: WriteSynthOptions = {},
): Promise<WrittenSynthDataset> {
  const resolved = parseSynthSeriesOptions(options);
  const images: string[] = [];
  const labels: string[] = [];
  const crowded: WrittenSynthDataset['crowded'] = [];
  const frames: SynthTruth['frames'][number][] = [];
  let index = 0;
  for (const synth of iterateSynthSeries(resolved, new Rng(seed), `synth:seed=${seed}`)) {
    const name = `frame-${String(index).padStart(4, '0')}.png`;
    const image = join('images', name);
    const label = join('labels', name);
    const { width, height } = synth.frame;
    const png = encodePng({ width, height, data: synth.samples, depth: resolved.bitDepth, channels: 1 });
    await writeFileAtomic(join(outDir, image), png);
    await writeLabelPng(join(outDir, label), synth.labels);
    images.push(join(outDir, image));
    labels.push(join(outDir, label));
    if (synth.particles.length < synth.requested) {
      crowded.push({ index, placed: synth.particles.length, requested: synth.requested });
    }
    frames.push({
      index,
      image,
      labels: label,
      hash: synth.frame.hash,
      requested: synth.requested,
      diameterMedian: synth.options.diameter.median,
      contrast: synth.options.contrast,
      particles: synth.particles,
    });
    index++;
    write.onFrame?.(index, resolved.frames);
  }
  const truth: SynthTruth = { generator: 'samstar-synth', version: 1, seed, options: resolved, frames };
  const truthPath = join(outDir, 'truth.json');
  await writeFileAtomic(truthPath, `${JSON.stringify(truth, null, 1)}\n`);
  return { outDir, images, labels, truth: truthPath, crowded };
}
