import sharp from 'sharp';
import type { TermSpec } from '../../rewards/index.js';
import { followsFrameMedian } from '../../rewards/terms/size.js';
import { loadFrame } from '../image/load.js';
import { renderOverlayRgb } from '../image/overlay.js';
import { readLabelPng } from '../masks/label-png.js';
import { scorePrediction } from '../measure/evaluate.js';
import { measure } from '../measure/measure.js';
import { segmentationLabels } from '../segment/outputs.js';
import type { KnobValues } from '../segmenters/knobs.js';
import type { Segmenter } from '../segmenters/types.js';
import type { ResolvedTask } from '../train/task.js';

/**
 * The pictures of a report that need the segmenter: size distributions of the
 * default and tuned segmentations (against the reward's target distribution
 * when the reward has a size term) and overlays of a few frames.
 */
export interface KnobSet {
  /** Short id used in file names ("default", "cmaes"). */
  readonly name: string;
  /** What the report calls it ("default", "tuned · cmaes (seed 2)", "ppo (policy, knobs per frame)"). */
  readonly label: string;
  /** The full knob vector to segment with. */
  readonly knobs: KnobValues;
  /** A policy's knobs: one full vector per frame of the task, in frame order (`knobs` is then frame 0's). */
  readonly perFrame?: readonly KnobValues[];
  /** The segmenter these knobs are for, when it is not the report's (a comparison of several segmenters). */
  readonly segmenter?: Segmenter;
}

/** The knobs a set segments frame i with. */
export function knobsFor(set: KnobSet, frame: number): KnobValues {
  return set.perFrame?.[frame] ?? set.knobs;
}

export type SizeTarget =
  | { readonly distribution: 'lognormal'; readonly median: number; readonly sigma: number }
  | { readonly distribution: 'normal'; readonly mean: number; readonly sd: number }
  | { readonly distribution: 'histogram'; readonly edges: number[]; readonly weights: number[] };

export interface SizeSpec {
  readonly property: 'equivalent_diameter' | 'area' | 'major_axis_length' | 'minor_axis_length';
  readonly unit: 'px' | 'nm' | 'um';
  readonly pixelSize: number;
  readonly excludeBorder: boolean;
  /** The reward's target (null when the reward has no size term). */
  readonly target: SizeTarget | null;
}

export interface OverlayCell {
  readonly set: string;
  readonly label: string;
  /** Full-resolution RGB overlay as PNG. */
  readonly png: Buffer;
  readonly instances: number;
  /** mSA of this segmentation against the frame's labels (null without labels). */
  readonly msa: number | null;
}

export interface ReportVisuals {
  readonly sizes: {
    readonly spec: SizeSpec;
    readonly frames: number;
    readonly panels: { readonly name: string; readonly label: string; readonly sample: number[] }[];
  } | null;
  readonly overlays: { readonly frame: string; readonly width: number; readonly height: number; readonly cells: OverlayCell[] }[];
  /** Why pictures are missing, when they are. */
  readonly note?: string;
}

/** "px", "nm²", "µm"…: the axis unit of a size measure. */
export function sizeUnitLabel(unit: SizeSpec['unit'], property: SizeSpec['property']): string {
  const base = unit === 'um' ? 'µm' : unit;
  return property === 'area' ? `${base}²` : base;
}

/** The size measure of the report: the reward's size term when it has one, else equivalent diameter in pixels. */
export function sizeSpecOf(terms: readonly TermSpec[]): SizeSpec {
  const term = terms.find((t) => t.type === 'size');
  if (!term) return { property: 'equivalent_diameter', unit: 'px', pixelSize: 1, excludeBorder: true, target: null };
  const p = term.params as {
    property?: SizeSpec['property'];
    unit?: 'px' | 'nm' | 'um';
    pixel_size?: number;
    exclude_border?: boolean;
    target: SizeTarget | { distribution: 'lognormal'; median: 'auto'; sigma: number };
  };
  // `median: auto` follows each frame's own median: no single curve describes the pooled frames.
  const target = followsFrameMedian(p.target) ? null : (p.target as SizeTarget);
  return {
    property: p.property ?? 'equivalent_diameter',
    unit: p.unit ?? 'px',
    // pixel_size is nm per pixel (the term's schema converts any unit written): µm targets scale by it / 1000.
    pixelSize: p.unit === 'nm' ? (p.pixel_size ?? 1) : p.unit === 'um' ? (p.pixel_size ?? 1000) / 1000 : 1,
    excludeBorder: p.exclude_border ?? true,
    target,
  };
}

export interface ComputeVisualsOptions {
  readonly segmenter: Segmenter;
  readonly task: ResolvedTask;
  readonly sets: readonly KnobSet[];
  /** Frames whose instances go into the size histograms (default 8). */
  readonly histogramFrames?: number;
  /** Frames shown as overlays (default 3). */
  readonly overlayFrames?: number;
  readonly signal?: AbortSignal;
}

export async function computeVisuals(options: ComputeVisualsOptions): Promise<ReportVisuals> {
  const { segmenter, task, sets } = options;
  const spec = sizeSpecOf(task.reward.config.terms);
  const frameCount = task.data.frames.length;
  const histogramFrames = Math.min(frameCount, Math.max(0, options.histogramFrames ?? 8));
  const overlayFrames = Math.min(frameCount, Math.max(0, options.overlayFrames ?? 3));
  const samples = sets.map(() => [] as number[]);
  const overlays: ReportVisuals['overlays'][number][] = [];
  const factor = spec.property === 'area' ? spec.pixelSize ** 2 : spec.pixelSize;
  let measured = 0;
  for (let i = 0; i < Math.max(histogramFrames, overlayFrames); i++) {
    if (options.signal?.aborted) break;
    const path = task.data.frames[i];
    const frame = await loadFrame(path, { channel: task.data.channel, pixelSizeNm: task.data.pixelSize });
    const labelPath = task.data.labels?.[i] ?? null;
    const truth = labelPath && i < overlayFrames ? await readLabelPng(labelPath) : null;
    const cells: OverlayCell[] = [];
    for (let s = 0; s < sets.length; s++) {
      const segmentation = await (sets[s].segmenter ?? segmenter).segment(frame, knobsFor(sets[s], i));
      if (i < histogramFrames) {
        for (const m of measure(segmentation).instances) {
          if (spec.excludeBorder && m.touches_border) continue;
          samples[s].push(m[spec.property] * factor);
        }
      }
      if (i < overlayFrames) {
        const labels = segmentationLabels(segmentation);
        const rgb = renderOverlayRgb(frame, labels);
        const png = await sharp(rgb, { raw: { width: frame.width, height: frame.height, channels: 3 } }).png().toBuffer();
        const msa = truth && truth.width === frame.width && truth.height === frame.height ? scorePrediction(segmentation, truth).msa : null;
        cells.push({ set: sets[s].name, label: sets[s].label, png, instances: segmentation.instances.length, msa });
      }
    }
    if (i < histogramFrames) measured++;
    if (i < overlayFrames) overlays.push({ frame: frameId(path), width: frame.width, height: frame.height, cells });
  }
  return {
    sizes: sets.length && measured > 0 ? { spec, frames: measured, panels: sets.map((s, k) => ({ name: s.name, label: s.label, sample: samples[k] })) } : null,
    overlays,
    ...(options.signal?.aborted ? { note: 'interrupted while drawing the pictures: some are missing' } : {}),
  };
}

function frameId(path: string): string {
  return (path.split(/[\\/]/).pop() ?? path).replace(/\.(png|jpe?g|tiff?)$/i, '');
}

/** Density of the target at x (in the report's size units). */
export function targetDensity(target: SizeTarget, x: number): number {
  switch (target.distribution) {
    case 'lognormal': {
      if (x <= 0) return 0;
      const z = (Math.log(x) - Math.log(target.median)) / target.sigma;
      return Math.exp(-0.5 * z * z) / (x * target.sigma * Math.sqrt(2 * Math.PI));
    }
    case 'normal': {
      const z = (x - target.mean) / target.sd;
      return Math.exp(-0.5 * z * z) / (target.sd * Math.sqrt(2 * Math.PI));
    }
    case 'histogram': {
      const total = target.weights.reduce((a, b) => a + b, 0);
      for (let j = 0; j < target.weights.length; j++) {
        if (x >= target.edges[j] && x < target.edges[j + 1]) return target.weights[j] / total / (target.edges[j + 1] - target.edges[j]);
      }
      return 0;
    }
  }
}

/** A range that holds the bulk of the target (for the histogram's axis). */
export function targetRange(target: SizeTarget): [number, number] {
  switch (target.distribution) {
    case 'lognormal':
      return [target.median * Math.exp(-3 * target.sigma), target.median * Math.exp(3 * target.sigma)];
    case 'normal':
      return [Math.max(0, target.mean - 3.5 * target.sd), target.mean + 3.5 * target.sd];
    case 'histogram':
      return [target.edges[0], target.edges[target.edges.length - 1]];
  }
}
