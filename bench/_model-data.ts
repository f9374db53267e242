/**
 * The image sets of `bench model`: the real development sets in ../shared/data (from the repository
 * root; absent on a user's machine, then the group is skipped) and synthetic frames made in-process.
 * Images load on demand: a group's frames are never all in memory at once.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { generateSynthFrame } from '../src/data/synth.js';
import type { Frame } from '../src/image/frame.js';
import { loadFrame } from '../src/image/load.js';
import { readLabelPng } from '../src/masks/label-png.js';
import type { LabelImage } from '../src/masks/types.js';
import { packageRoot } from '../src/util/package-root.js';
import { Rng } from '../src/util/rng.js';

/** ../shared/data next to the repository (see its README.md). */
export const DATA_DIR = resolve(packageRoot(), '..', 'shared', 'data');

export interface LabelledImage {
  /** "set/file-stem", or "synthetic/frame-0003". */
  readonly id: string;
  readonly set: string;
  loadTruth(): Promise<LabelImage>;
  load(): Promise<{ frame: Frame; truth: LabelImage }>;
}

/** One real set (images/ + labels/ matched by file stem), sorted by file name; null with the reason when absent. */
export function realSet(name: string): { images: LabelledImage[] } | { missing: string } {
  const dir = resolve(DATA_DIR, name); // a name under DATA_DIR, or an absolute path
  const imagesDir = join(dir, 'images');
  const labelsDir = join(dir, 'labels');
  if (!existsSync(imagesDir) || !existsSync(labelsDir)) return { missing: `${name}: no images/ and labels/ under ${dir}` };
  const files = readdirSync(imagesDir)
    .filter((f) => /\.(png|tiff?|jpe?g)$/i.test(f))
    .sort();
  const images: LabelledImage[] = [];
  for (const file of files) {
    const stem = basename(file).replace(/\.[^.]+$/, '');
    const labelPath = join(labelsDir, `${stem}.png`);
    if (!existsSync(labelPath)) continue; // an image without labels cannot be scored
    const imagePath = join(imagesDir, file);
    images.push({
      id: `${name}/${stem}`,
      set: name,
      loadTruth: () => readLabelPng(labelPath),
      load: async () => ({ frame: await loadFrame(imagePath), truth: await readLabelPng(labelPath) }),
    });
  }
  return images.length ? { images } : { missing: `${name}: no image in ${imagesDir} has a label image in ${labelsDir}` };
}

/**
 * Synthetic fluorescence nuclei as `samstar demo` makes them (256², ~22 nuclei of ~18 px), seeded.
 * Generated up front: they are small, and each must be identical wherever it is used.
 */
export function syntheticSet(frames: number, seed: number): LabelledImage[] {
  const rng = new Rng(10_000 + seed);
  return Array.from({ length: frames }, (_, i) => {
    const id = `synthetic/frame-${String(i).padStart(4, '0')}`;
    const synth = generateSynthFrame({ width: 256, height: 256, count: 22, diameter: { median: 18, sigma: 0.25 } }, rng.fork(), id);
    return { id, set: 'synthetic', loadTruth: async () => synth.labels, load: async () => ({ frame: synth.frame, truth: synth.labels }) };
  });
}

/**
 * Tuning images and scored images of a group: the first `tune` images (sorted by name) split as
 * evenly as possible over the group's sets, so a two-set group tunes on both; the rest are scored
 * (at most `testPerSet` per set, the first ones after the tuning images).
 */
export function splitGroup(sets: LabelledImage[][], tune: number, testPerSet: number): { tune: LabelledImage[]; test: LabelledImage[] } {
  const tuneImages: LabelledImage[] = [];
  const testImages: LabelledImage[] = [];
  sets.forEach((images, s) => {
    const share = Math.floor(tune / sets.length) + (s < tune % sets.length ? 1 : 0);
    tuneImages.push(...images.slice(0, share));
    testImages.push(...images.slice(share, share + testPerSet));
  });
  return { tune: tuneImages, test: testImages };
}
