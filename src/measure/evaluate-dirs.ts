import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readLabelPng } from '../masks/label-png.js';
import { SamstarError } from '../util/errors.js';
import { readYoloBoxes } from './boxes.js';
import { meanScores, scorePrediction, type ImageScores } from './evaluate.js';

/**
 * `samstar evaluate --pred DIR --truth DIR`: pair files by name and score each pair.
 * A file NAME.labels.png, NAME.png (or .tif/.tiff) is a label image of NAME; in the truth folder
 * NAME.txt is a YOLO box file. Files without a partner are reported, not silently dropped.
 * The pictures `samstar segment` writes beside its labels (NAME.overlay.png) are not label
 * images and are skipped quietly, so a segment output folder is a prediction folder as it is.
 */
export interface DirectoryEvaluation {
  images: ({ name: string } & ImageScores)[];
  mean: ImageScores;
  unmatched: { pred: string[]; truth: string[] };
}

const SUFFIXES: readonly [string, 'labels' | 'boxes'][] = [
  ['.labels.png', 'labels'],
  ['.png', 'labels'],
  ['.tiff', 'labels'],
  ['.tif', 'labels'],
  ['.txt', 'boxes'],
];

/** samstar's own non-label outputs that share the label suffixes. */
const NOT_LABELS = ['.overlay.png'];

interface Entry {
  file: string;
  kind: 'labels' | 'boxes';
}

async function listByName(dir: string, allowBoxes: boolean, role: string): Promise<Map<string, Entry>> {
  let files: string[];
  try {
    files = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isFile()).map((d) => d.name);
  } catch (error) {
    throw new SamstarError('IO_ERROR', `cannot list the ${role} folder ${dir}: ${(error as Error).message}`, { cause: error });
  }
  const byName = new Map<string, Entry>();
  for (const file of files.sort()) {
    if (NOT_LABELS.some((suffix) => file.toLowerCase().endsWith(suffix))) continue;
    const hit = SUFFIXES.find(([suffix, kind]) => file.toLowerCase().endsWith(suffix) && (allowBoxes || kind === 'labels'));
    if (!hit) continue;
    const name = file.slice(0, file.length - hit[0].length);
    const previous = byName.get(name);
    if (previous) {
      throw new SamstarError('ARGUMENT_INVALID', `${role} folder ${dir} has two files for "${name}": ${previous.file} and ${file}`, {
        hint: 'keep one label image (or box file) per image name',
      });
    }
    byName.set(name, { file, kind: hit[1] });
  }
  return byName;
}

export async function evaluateDirectories(predDir: string, truthDir: string): Promise<DirectoryEvaluation> {
  const preds = await listByName(predDir, false, 'prediction');
  const truths = await listByName(truthDir, true, 'truth');
  const names = [...preds.keys()].filter((n) => truths.has(n)).sort();
  const images: DirectoryEvaluation['images'] = [];
  for (const name of names) {
    const predPath = join(predDir, preds.get(name)!.file);
    const truthEntry = truths.get(name)!;
    const truthPath = join(truthDir, truthEntry.file);
    const prediction = await readLabelPng(predPath);
    const truth =
      truthEntry.kind === 'boxes'
        ? await readYoloBoxes(truthPath, prediction.width, prediction.height)
        : await readLabelPng(truthPath);
    images.push({ name, ...scorePrediction(prediction, truth, { source: `${predPath} vs ${truthPath}` }) });
  }
  return {
    images,
    mean: meanScores(images),
    unmatched: {
      pred: [...preds.keys()].filter((n) => !truths.has(n)).map((n) => preds.get(n)!.file),
      truth: [...truths.keys()].filter((n) => !preds.has(n)).map((n) => truths.get(n)!.file),
    },
  };
}
