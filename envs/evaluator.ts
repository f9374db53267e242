import { compileReward, evaluateReward, type CompiledReward, type RewardResult } from '../rewards/index.js';
import type { Frame } from '../src/image/frame.js';
import type { LabelImage } from '../src/masks/types.js';
import type { KnobSpace, KnobValues } from '../src/segmenters/knobs.js';
import type { Segmentation, Segmenter } from '../src/segmenters/types.js';

/**
 * Evaluators: "segment these frames with these knobs and score each with the
 * reward". TuneEnv (and, through it, the training runner) talks only to this
 * interface, so where the work runs (in this thread, in a worker pool, later on
 * a queue across machines) is a choice of implementation.
 */

/** One frame to evaluate: its id (for records), the frame, and its ground truth if any. */
export interface EvalFrame {
  readonly id: string;
  readonly frame: Frame;
  readonly truth?: LabelImage;
}

/** The record of one frame's evaluation (plain data: it goes into info and the study store). */
export interface FrameEvaluation {
  readonly frame: string;
  readonly total: number;
  readonly terms: Record<string, number>;
  readonly objectives?: number[];
  /** Instances in the segmentation. */
  readonly count: number;
  /** Wall time of segment + reward, milliseconds. */
  readonly ms: number;
  readonly segmentMs: number;
  readonly rewardMs: number;
}

export interface Evaluator {
  /** The segmenter's full knob space (resolving and validating knob vectors happens against it). */
  readonly knobs: KnobSpace;
  /**
   * Evaluate one full, resolved knob vector on each frame. Results come back in
   * the order of `frames`, whatever order the work ran in.
   */
  evaluate(knobs: KnobValues, frames: readonly EvalFrame[]): Promise<FrameEvaluation[]>;
  /** Release what the evaluator created (workers). Never disposes a segmenter it was given. */
  close(): Promise<void>;
}

/**
 * Segment one frame with full, resolved knobs and score it: the one path from
 * knobs to a reward of every environment (the evaluators, in-process and in the
 * workers, AdjustEnv and StreamEnv), so they agree to the last bit.
 * evaluateReward never returns a non-finite total (it throws, naming the frame).
 */
export async function segmentAndScore(
  segmenter: Segmenter,
  reward: CompiledReward,
  item: EvalFrame,
  knobs: KnobValues,
): Promise<{ segmentation: Segmentation; result: RewardResult; segmentMs: number; rewardMs: number }> {
  const started = performance.now();
  const segmentation = await segmenter.segment(item.frame, knobs);
  const segmented = performance.now();
  const result = evaluateReward(reward, segmentation, { frame: item.frame, truth: item.truth, source: item.id });
  return { segmentation, result, segmentMs: segmented - started, rewardMs: performance.now() - segmented };
}

/** One frame's evaluation record (segmentAndScore, as plain data). */
export async function evaluateFrame(segmenter: Segmenter, reward: CompiledReward, item: EvalFrame, knobs: KnobValues): Promise<FrameEvaluation> {
  const { segmentation, result, segmentMs, rewardMs } = await segmentAndScore(segmenter, reward, item, knobs);
  return {
    frame: item.id,
    total: result.total,
    terms: result.terms,
    ...(result.objectives ? { objectives: result.objectives } : {}),
    count: segmentation.instances.length,
    ms: segmentMs + rewardMs,
    segmentMs,
    rewardMs,
  };
}

/**
 * Everything in this thread, one frame after the other, on the segmenter it is
 * given (whose stage caches carry over between evaluations). The default, and
 * what tests use.
 */
export class InProcessEvaluator implements Evaluator {
  readonly knobs: KnobSpace;

  constructor(
    readonly segmenter: Segmenter,
    readonly reward: CompiledReward,
  ) {
    this.knobs = segmenter.knobs;
  }

  async evaluate(knobs: KnobValues, frames: readonly EvalFrame[]): Promise<FrameEvaluation[]> {
    const out: FrameEvaluation[] = [];
    for (const item of frames) out.push(await evaluateFrame(this.segmenter, this.reward, item, knobs));
    return out;
  }

  async close(): Promise<void> {
    // The segmenter belongs to the caller.
  }
}

/** A compiled reward from its (plain-data, worker-transferable) config. */
export function rewardFromConfig(config: CompiledReward['config']): CompiledReward {
  return compileReward(config);
}
