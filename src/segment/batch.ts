import type { Frame } from '../image/frame.js';
import { loadFrame } from '../image/load.js';
import type { KnobValues } from '../segmenters/knobs.js';
import type { Segmentation, Segmenter } from '../segmenters/types.js';
import { SamstarError, isSamstarError } from '../util/errors.js';
import { outputStem, writeSegmentationOutputs, type OutputPaths } from './outputs.js';

export interface BatchItemResult {
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
  readonly provenance: Record<string, unknown>;
  readonly onItem?: (done: number, result: BatchItemResult) => void;
}

/**
 * Segment files one by one. A file that fails (missing, corrupt) is reported
 * and skipped; the outputs of the others are written as they complete, so
 * nothing already computed is lost.
 */
export async function segmentFiles(options: BatchOptions): Promise<BatchItemResult[]> {
  const stems = new Map<string, string>();
  for (const input of options.inputs) {
    const stem = outputStem(input);
    const other = stems.get(stem);
    if (other !== undefined && other !== input) {
      throw new SamstarError('ARGUMENT_INVALID', `inputs ${other} and ${input} would both write ${stem}.labels.png / ${stem}.json`, {
        hint: 'segment them into different --out folders, or rename one',
      });
    }
    stems.set(stem, input);
  }
  const results: BatchItemResult[] = [];
  for (const input of options.inputs) {
    const started = performance.now();
    let result: BatchItemResult;
    try {
      const frame = await loadFrame(input);
      const knobs = await options.knobsFor(frame);
      const segmentation: Segmentation = await options.segmenter.segment(frame, knobs);
      const outputs = await writeSegmentationOutputs(options.outDir, frame, segmentation, options.provenance);
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
