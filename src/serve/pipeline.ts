import type { Frame } from '../image/frame.js';
import { measure } from '../measure/measure.js';
import type { FrameMeasurement, InstanceMeasurement, Measurements } from '../measure/types.js';
import type { KnobValues } from '../segmenters/knobs.js';
import type { Instance, Segmentation, Segmenter } from '../segmenters/types.js';
import { evaluateReward, type CompiledReward, type RewardResult } from '../../rewards/composite.js';
import type { OnlineAdapter } from '../policy/adapt.js';
import type { KnobChooser } from './knob-chooser.js';

/** What the server needs to segment a frame: the model, who picks the knobs, and an optional reward. */
export interface PipelineContext {
  readonly segmenter: Segmenter;
  readonly chooser: KnobChooser;
  readonly reward: CompiledReward | null;
  /** `--adapt`: the chosen knobs refined per frame by a short search on the reward (frames are processed one at a time). */
  readonly adapter?: OnlineAdapter | null;
}

/** What online adaptation did to one frame (answered as `adapt`). */
export interface AdaptJson {
  readonly evaluations: number;
  /** The reward of the knobs the chooser gave, and of the winner. */
  readonly start: number | null;
  readonly total: number;
  readonly timed_out: boolean;
}

export interface Processed {
  readonly frame: Frame;
  readonly knobs: KnobValues;
  readonly segmentation: Segmentation;
  readonly measurements: Measurements;
  readonly reward: RewardResult | null;
  readonly adapt?: AdaptJson;
  /** ms (`segment` includes the adaptation's evaluations) */
  readonly timings: { choose: number; segment: number; measure: number; reward: number };
}

/** Choose knobs, segment, measure, score: the work of one frame. */
export async function processFrame(ctx: PipelineContext, frame: Frame): Promise<Processed> {
  const t0 = performance.now();
  const knobs = await ctx.chooser.choose(frame);
  const t1 = performance.now();
  let segmentation: Segmentation;
  let adapt: AdaptJson | undefined;
  if (ctx.adapter) {
    const r = await ctx.adapter.adapt(frame, knobs, { id: frame.source });
    segmentation = r.segmentation;
    adapt = { evaluations: r.evaluations, start: Number.isFinite(r.baseTotal) ? r.baseTotal : null, total: r.total, timed_out: r.timedOut };
  } else {
    segmentation = await ctx.segmenter.segment(frame, knobs);
  }
  const t2 = performance.now();
  // With a reward, measure as the reward wants (so the measurements are shared); otherwise skip
  // the ring statistics, the costliest measurement.
  const options = ctx.reward ? ctx.reward.measureOptions(frame) : { frame, ring: false };
  const measurements = measure(segmentation, { ...options, source: frame.source });
  const t3 = performance.now();
  const reward = ctx.reward ? evaluateReward(ctx.reward, segmentation, { frame, measurements, source: frame.source }) : null;
  const t4 = performance.now();
  return { frame, knobs: segmentation.knobs, segmentation, measurements, reward, ...(adapt ? { adapt } : {}), timings: { choose: t1 - t0, segment: t2 - t1, measure: t3 - t2, reward: t4 - t3 } };
}

/** Milliseconds of each step of one frame, as answered. */
export interface TimingsJson {
  /** Arrival → start of processing. */
  queue: number;
  /** Decoding the body to a frame (for requests it overlaps the wait in the queue). */
  decode: number;
  choose: number;
  segment: number;
  /** The segmenter's own stages (only those that ran; cached stages are absent). */
  stages: Segmentation['timings'];
  measure: number;
  reward: number;
  /** Arrival → answer ready. */
  total: number;
}

/** The JSON answer for one frame (POST /v1/segment, and each /v1/stream result with `type` and `dropped` added). */
export interface SegmentResultJson {
  /** The client's frame id (stream header `id`, or the `x-frame-id` request header), else the server's frame number. */
  id: string | number;
  /** The server's frame number (counts every frame received, in arrival order). */
  seq: number;
  width: number;
  height: number;
  /** sha256 of the decoded samples (equal frames give equal hashes). */
  frame_sha256: string;
  segmenter: string;
  count: number;
  /** Knob values used for this frame (from --knobs or the policy). */
  knobs: KnobValues;
  /** SAM-style records: COCO RLE (column-major, [h, w]), area, XYWH box, predicted IoU, stability, prompt point, crop box. */
  instances: Instance[];
  /** Frame-level measurements, and per-instance ones (instances[i] ↔ measurements.instances[i], label i + 1). */
  measurements: { frame: FrameMeasurement; instances: InstanceMeasurement[] };
  /** The reward config's total and terms (null when the server runs without --reward). */
  reward: RewardResult | null;
  /** `serve --adapt` only: the search that refined the chosen knobs into `knobs`. */
  adapt?: AdaptJson;
  /** Asked for labels as PNG, but the frame has more instances than a 16-bit PNG holds: why this JSON came instead. */
  labels_png?: string;
  timings_ms: TimingsJson;
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

export function resultJson(
  processed: Processed,
  meta: { id: string | number; seq: number; segmenter: string; queueMs: number; decodeMs: number; totalMs: number },
): SegmentResultJson {
  const { segmentation, measurements, timings, frame } = processed;
  const stages: Segmentation['timings'] = {};
  for (const [k, v] of Object.entries(segmentation.timings)) stages[k as keyof Segmentation['timings']] = round(v);
  return {
    id: meta.id,
    seq: meta.seq,
    width: frame.width,
    height: frame.height,
    frame_sha256: frame.hash,
    segmenter: meta.segmenter,
    count: segmentation.instances.length,
    knobs: processed.knobs,
    instances: segmentation.instances,
    measurements: { frame: measurements.frame, instances: measurements.instances },
    reward: processed.reward,
    ...(processed.adapt ? { adapt: processed.adapt } : {}),
    timings_ms: {
      queue: round(meta.queueMs),
      decode: round(meta.decodeMs),
      choose: round(timings.choose),
      segment: round(timings.segment),
      stages,
      measure: round(timings.measure),
      reward: round(timings.reward),
      total: round(meta.totalMs),
    },
  };
}
