import { compileReward, evaluateReward, type CompiledReward } from '../rewards/index.js';
import type { Frame } from '../src/image/frame.js';
import type { LabelImage } from '../src/masks/types.js';
import type { KnobSpace, KnobValues } from '../src/segmenters/knobs.js';
import type { Segmenter } from '../src/segmenters/types.js';
import { SamstarError } from '../src/util/errors.js';

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
 * Segment one frame and score it: the single code path of every evaluator
 * (in-process and in the workers), so they agree to the last bit.
 */
export async function evaluateFrame(segmenter: Segmenter, reward: CompiledReward, item: EvalFrame, knobs: KnobValues): Promise<FrameEvaluation> {
  const started = performance.now();
  const segmentation = await segmenter.segment(item.frame, knobs);
  const segmented = performance.now();
  const result = evaluateReward(reward, segmentation, { frame: item.frame, truth: item.truth, source: item.id });
  const done = performance.now();
  if (!Number.isFinite(result.total)) {
    throw new SamstarError('CONFIG_INVALID', `${reward.config.source}: the total is ${result.total} on frame ${item.id} (terms ${JSON.stringify(result.terms)})`, {
      hint: 'the total expression divides by zero or takes a log of a non-positive term for this segmentation; guard it (e.g. max(x, 1e-6))',
    });
  }
  return {
    frame: item.id,
    total: result.total,
    terms: result.terms,
    ...(result.objectives ? { objectives: result.objectives } : {}),
    count: segmentation.instances.length,
    ms: done - started,
    segmentMs: segmented - started,
    rewardMs: done - segmented,
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
