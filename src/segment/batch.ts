import type { Frame } from '../image/frame.js';
import { frameRefStem, listFrames, loadFrame } from '../image/load.js';
import type { KnobValues } from '../segmenters/knobs.js';
import type { Segmentation, Segmenter } from '../segmenters/types.js';
import { SamstarError, isSamstarError } from '../util/errors.js';
import { writeSegmentationOutputs, type OutputPaths } from './outputs.js';
import type { RunTables } from './tables.js';

export interface BatchItemResult {
  /** The file, or the frame of a stack (`stack.tif#t0003`). */
  readonly input: string;
  readonly ok: boolean;
  readonly outputs?: OutputPaths;
  readonly count?: number;
  readonly ms?: number;
  readonly error?: string;
}

export interface BatchOptions {
  readonly inputs: readonly string[];
  readonly outDir: string;
  readonly segmenter: Segmenter;
  /** Knob values per frame (a fixed setting, or a policy's choice). */
  readonly knobsFor: (frame: Frame) => KnobValues | Promise<KnobValues>;
  /**
   * Segment a frame starting from its knobs, instead of `segmenter.segment` (online adaptation:
   * the search's winner); `record` is added to that frame's NAME.json (e.g. the search's trace).
   */
  readonly segmentFrame?: (frame: Frame, knobs: KnobValues) => Promise<{ segmentation: Segmentation; record?: Record<string, unknown> }>;
  readonly provenance: Record<string, unknown>;
  /** The signal channel of multi-channel images (see loadFrame). */
  readonly channel?: number;
  /** Nanometres per pixel, overriding the files' metadata. */
  readonly pixelSizeNm?: number;
  /** Run-wide tables (CSV, COCO) fed with every frame segmented. */
  readonly tables?: RunTables;
  readonly onItem?: (done: number, result: BatchItemResult) => void;
}

/**
 * Segment files one by one, every frame of a stack as its own item (NAME-t0003.*). A file
 * that fails (missing, corrupt, a channel to choose) is reported and skipped; the outputs
 * of the others are written as they complete, so nothing already computed is lost.
 */
export async function segmentFiles(options: BatchOptions): Promise<BatchItemResult[]> {
  const results: BatchItemResult[] = [];
  const inputs: string[] = [];
  for (const file of options.inputs) {
    try {
      inputs.push(...(await listFrames([file], { channel: options.channel })));
    } catch (error) {
      if (!isSamstarError(error)) throw error;
      results.push({ input: file, ok: false, error: error.describe() });
      options.onItem?.(results.length, results[results.length - 1]);
    }
  }
  const stems = new Map<string, string>();
  for (const input of inputs) {
    const stem = frameRefStem(input);
    const other = stems.get(stem);
    if (other !== undefined && other !== input) {
      throw new SamstarError('ARGUMENT_INVALID', `inputs ${other} and ${input} would both write ${stem}.labels.png / ${stem}.json`, {
        hint: 'segment them into different --out folders, or rename one',
      });
    }
    stems.set(stem, input);
  }
  for (const input of inputs) {
    const started = performance.now();
    let result: BatchItemResult;
    try {
      const frame = await loadFrame(input, { channel: options.channel, pixelSizeNm: options.pixelSizeNm });
      const knobs = await options.knobsFor(frame);
      const done = options.segmentFrame ? await options.segmentFrame(frame, knobs) : { segmentation: await options.segmenter.segment(frame, knobs) };
      const segmentation: Segmentation = done.segmentation;
      const outputs = await writeSegmentationOutputs(options.outDir, frame, segmentation, done.record ? { ...options.provenance, ...done.record } : options.provenance);
      options.tables?.add(frame, segmentation);
      result = { input, ok: true, outputs, count: segmentation.instances.length, ms: performance.now() - started };
    } catch (error) {
      if (!isSamstarError(error)) throw error;
      result = { input, ok: false, error: error.describe() };
    }
    results.push(result);
    options.onItem?.(results.length, result);
  }
  return results;
}
