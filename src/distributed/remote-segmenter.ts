import type { Frame } from '../image/frame.js';
import type { KnobSpace, KnobValues } from '../segmenters/knobs.js';
import type { Segmentation, Segmenter } from '../segmenters/types.js';
import { RedisEvaluator, type RemoteExecution } from './evaluator.js';

/**
 * A Segmenter whose `segment` runs on `samstar worker`s (`samstar watch
 * --redis`): each frame is a segment-only job, pinned to a worker like any
 * other, and the worker's segmentation comes back as it would locally. The
 * local segmenter it is built from gives the name, the knob space and the form
 * the workers rebuild it from; it stays the caller's.
 */
export class RemoteSegmenter implements Segmenter {
  readonly name: string;
  readonly knobs: KnobSpace;

  private constructor(
    private readonly evaluator: RedisEvaluator,
    local: Segmenter,
  ) {
    this.name = local.name;
    this.knobs = local.knobs;
  }

  static async start(remote: RemoteExecution, local: Segmenter): Promise<RemoteSegmenter> {
    const { url, reconnectLimitMs, ...rest } = remote;
    const evaluator = await RedisEvaluator.start({ ...rest, redis: { url, reconnectLimitMs }, knobs: local.knobs, segmenter: local });
    return new RemoteSegmenter(evaluator, local);
  }

  segment(frame: Frame, knobs: KnobValues): Promise<Segmentation> {
    return this.evaluator.segment({ id: frame.source, frame }, knobs);
  }

  /** Closes the connection to Redis (not the local segmenter). */
  async dispose(): Promise<void> {
    await this.evaluator.close();
  }
}
