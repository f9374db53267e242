import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { stringify as toYaml } from 'yaml';
import { parseTaskConfig } from '../config/task.js';
import { writeSynthDataset } from '../data/synth-files.js';
import { loadFrame } from '../image/load.js';
import { renderOverlayRgb } from '../image/overlay.js';
import { readLabelPng } from '../masks/label-png.js';
import { scorePrediction, type ImageScores } from '../measure/evaluate.js';
import { segmentationLabels } from '../segment/outputs.js';
import type { KnobValues } from '../segmenters/knobs.js';
import { SamSegmenter } from '../segmenters/sam/segmenter.js';
import { resolveTask } from '../train/task.js';
import { train, type TrainOptions } from '../train/train.js';
import type { TrainSummary } from '../train/summary.js';
import { writeFileAtomic } from '../util/fs.js';
import type { Device } from '../segmenters/sam/devices.js';

const DEMO_TASK_HEADER = '# The task the demo ran (paths are absolute).';

export interface DemoOptions {
  readonly out: string;
  readonly frames?: number;
  readonly budget?: number;
  readonly seed?: number;
  /** Where onnxruntime runs the model and with how many threads (default cpu, 1). */
  readonly device?: Device;
  readonly intraOpThreads?: number;
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
  readonly onEvaluation?: TrainOptions['onEvaluation'];
}

export interface DemoResult {
  readonly out: string;
  readonly summary: TrainSummary;
  /** Mean label scores over the frames (the labels were hidden from tuning). */
  readonly scores: { readonly default: ImageScores; readonly tuned: ImageScores };
  readonly comparisons: string[];
  /** OUT/report.html: default vs tuned side by side, with plots. */
  readonly report: string;
  readonly seconds: number;
}

/**
 * The whole idea in one run, on data it makes itself: synthetic fluorescence
 * nuclei with hidden ground truth; SAM's automatic mask generator (on the bundled
 * model, not SAM) with SAM's default knobs; CMA-ES tuning the filter
 * knobs against a physics reward (size, shape, coverage, overlap — no labels);
 * then both knob settings scored against the hidden labels, with side-by-side
 * overlays (default | tuned) to look at, and an HTML report (OUT/report.html).
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const started = performance.now();
  const log = options.log ?? (() => undefined);
  const out = resolve(options.out);
  const seed = options.seed ?? 1;
  const frames = options.frames ?? 4;
  await mkdir(out, { recursive: true });
  // A demo starts afresh: the run folder of an earlier demo in the same OUT is replaced (only when
  // OUT/task.yaml says a demo wrote it, so nothing else is ever deleted).
  if (existsSync(join(out, 'run')) && (await readFile(join(out, 'task.yaml'), 'utf8').catch(() => '')).startsWith(DEMO_TASK_HEADER)) {
    await rm(join(out, 'run'), { recursive: true, force: true });
  }

  log(`1/5 generating ${frames} synthetic frames with hidden labels → ${join(out, 'data')}`);
  const data = await writeSynthDataset(join(out, 'data'), { frames, width: 256, height: 256, count: 22, diameter: { median: 18, sigma: 0.25 } }, seed);

  const taskConfig = {
    name: 'demo',
    description: 'samstar demo: SAM filter knobs tuned by CMA-ES on a physics reward (labels only for scoring)',
    data: { frames: join(out, 'data', 'images', '*.png'), labels: join(out, 'data', 'labels') },
    segmenter: {
      name: 'sam',
      fixed: { points_per_side: 24 },
      tune: {
        pred_iou_thresh: { min: 0.3, max: 0.98 },
        stability_score_thresh: { min: 0.3, max: 0.98 },
        box_nms_thresh: { min: 0.3, max: 0.9 },
      },
    },
    reward: {
      measure: { foreground: 'bright' },
      terms: {
        size: { type: 'size', target: { distribution: 'lognormal', median: 18, sigma: 0.3 }, tolerance: 0.3 },
        shape: { type: 'shape', solidity: { min: 0.9 }, aspect_ratio: { max: 2.5 } },
        coverage: { type: 'coverage' },
        overlap: { type: 'overlap' },
      },
      total: '0.35*size + 0.3*shape + 0.35*coverage - 0.2*overlap',
    },
    agent: { name: 'cmaes', options: { popsize: 6 } },
    budget: options.budget ?? 60,
    seed,
  };
  await writeFileAtomic(join(out, 'task.yaml'), `${DEMO_TASK_HEADER}\n${toYaml(taskConfig)}`);
  const task = await resolveTask(parseTaskConfig(taskConfig, { source: join(out, 'task.yaml'), baseDir: out }));

  const segmenter = await SamSegmenter.load({ device: options.device, intraOpThreads: options.intraOpThreads });
  try {
    log(`2/5 default knobs (SAM's: pred_iou_thresh 0.88, stability_score_thresh 0.95) and 3/5 CMA-ES tuning (${taskConfig.budget} evaluations, physics reward)`);
    const result = await train(task, { out: join(out, 'run'), segmenter, signal: options.signal, onEvaluation: options.onEvaluation });
    const summary = result.summary;
    const fixed = { points_per_side: 24 };
    const defaults: KnobValues = segmenter.knobs.resolve(fixed);
    const tuned: KnobValues = segmenter.knobs.resolve({ ...fixed, ...(summary.best?.knobs ?? {}) });

    log(`4/5 scoring both against the hidden labels; overlays → ${join(out, 'compare')}`);
    const comparisons: string[] = [];
    const perFrame: { default: ImageScores; tuned: ImageScores }[] = [];
    await mkdir(join(out, 'compare'), { recursive: true });
    for (let i = 0; i < data.images.length; i++) {
      const frame = await loadFrame(data.images[i]);
      const truth = await readLabelPng(data.labels[i]);
      const a = await segmenter.segment(frame, defaults);
      const b = await segmenter.segment(frame, tuned);
      perFrame.push({ default: scorePrediction(a, truth), tuned: scorePrediction(b, truth) });
      const path = join(out, 'compare', `frame-${String(i).padStart(4, '0')}.png`);
      await writeSideBySide(path, renderOverlayRgb(frame, segmentationLabels(a)), renderOverlayRgb(frame, segmentationLabels(b)), frame.width, frame.height);
      comparisons.push(path);
    }
    const mean = (key: 'default' | 'tuned'): ImageScores => {
      const keys = ['precision', 'recall', 'f1', 'msa', 'mean_iou', 'dice'] as const;
      const m = { diameter_error: null } as unknown as Record<string, number | null>;
      for (const k of keys) m[k] = perFrame.reduce((s, p) => s + (p[key][k] ?? 0), 0) / perFrame.length;
      return m as unknown as ImageScores;
    };
    const scores = { default: mean('default'), tuned: mean('tuned') };

    log(`5/5 report (default vs tuned, convergence, knobs, size distributions) → ${join(out, 'report.html')}`);
    const { reportFromPath } = await import('../report/report.js');
    const report = await reportFromPath(join(out, 'run'), {
      out,
      segmenter,
      title: 'samstar demo: default vs tuned knobs',
      overlayFrames: data.images.length,
      histogramFrames: data.images.length,
      command: 'samstar demo',
    });
    const seconds = (performance.now() - started) / 1000;
    await writeFile(
      join(out, 'demo.json'),
      JSON.stringify({ seconds, default: { knobs: defaults, reward: summary.default, scores: scores.default }, tuned: { knobs: tuned, reward: summary.best, scores: scores.tuned }, comparisons, report: report.html }, null, 2) + '\n',
    );
    return { out, summary, scores, comparisons, report: report.html, seconds };
  } finally {
    await segmenter.dispose();
  }
}

/** Two RGB overlays side by side with a 4-pixel white gutter (default left, tuned right). */
async function writeSideBySide(path: string, left: Uint8Array, right: Uint8Array, width: number, height: number): Promise<void> {
  const gutter = 4;
  const w = 2 * width + gutter;
  const canvas = new Uint8Array(w * height * 3).fill(255);
  for (let y = 0; y < height; y++) {
    canvas.set(left.subarray(y * width * 3, (y + 1) * width * 3), y * w * 3);
    canvas.set(right.subarray(y * width * 3, (y + 1) * width * 3), (y * w + width + gutter) * 3);
  }
  await writeFileAtomic(path, await sharp(canvas, { raw: { width: w, height, channels: 3 } }).png().toBuffer());
}
