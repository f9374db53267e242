import type { Frame } from '../image/frame.js';
import { encodeLabelPng, labelPngOmitted, MAX_PNG_LABEL } from '../masks/label-png.js';
import type { LabelImage } from '../masks/types.js';
import { segmentationLabels } from '../segment/outputs.js';
import { decodeFrameInput, type FrameInput, type PixelLimits } from './decode-body.js';
import { describeError, type ErrorBody } from './errors.js';
import { ServeMetrics, type FrameMode } from './metrics.js';
import { processFrame, resultJson, type PipelineContext, type SegmentResultJson } from './pipeline.js';
import { Scheduler, type SchedulerOptions } from './scheduler.js';
import { ViewerHub } from './viewer.js';

/** How many equivalent diameters go to the viewer's histogram at most. */
const MAX_VIEWER_SIZES = 5000;

export interface FrameTask {
  readonly mode: FrameMode;
  readonly id: string | number;
  readonly seq: number;
  /** performance.now() when the frame arrived. */
  readonly arrived: number;
  /** Also encode the 16-bit label PNG. */
  readonly labels: boolean;
  /** The decoded frame (decoding may already be under way). */
  readonly frame: () => Promise<DecodedFrame>;
}

export interface DecodedFrame {
  readonly frame: Frame;
  readonly decodeMs: number;
}

export type Outcome =
  | { readonly ok: true; readonly json: SegmentResultJson; readonly labelsPng?: Uint8Array }
  | { readonly ok: false; readonly status: number; readonly error: ErrorBody; readonly id: string | number; readonly seq: number };

/**
 * The frame-processing core shared by the HTTP routes and the stream: decoding,
 * the pipeline, the answer JSON, metrics and the viewer feed. One instance per server.
 */
export class FrameService {
  readonly scheduler: Scheduler;
  readonly metrics = new ServeMetrics();
  readonly viewers = new ViewerHub();
  private seq = 0;

  constructor(
    readonly ctx: PipelineContext,
    readonly limits: PixelLimits,
    scheduling: SchedulerOptions,
    private readonly onInternalError: (error: unknown, where: string) => void = () => {},
  ) {
    this.scheduler = new Scheduler(scheduling);
  }

  nextSeq(): number {
    return ++this.seq;
  }

  /** Decoding that starts now and is awaited later (failures surface when awaited). */
  startDecode(input: FrameInput): () => Promise<DecodedFrame> {
    let started: Promise<DecodedFrame> | undefined;
    return () => {
      if (!started) {
        const t0 = performance.now();
        started = decodeFrameInput(input, this.limits).then((frame) => ({ frame, decodeMs: performance.now() - t0 }));
        started.catch(() => {}); // awaited by the job; never an unhandled rejection meanwhile
      }
      return started;
    };
  }

  /** Run one frame to its answer. Never throws: failures are answers too. */
  async execute(task: FrameTask): Promise<Outcome> {
    const started = performance.now();
    try {
      const { frame, decodeMs } = await task.frame();
      const processed = await processFrame(this.ctx, frame);
      let labels: LabelImage | undefined;
      let labelsPng: Uint8Array | undefined;
      const count = processed.segmentation.instances.length;
      if (task.labels) {
        labels = segmentationLabels(processed.segmentation);
        // More instances than a 16-bit PNG holds: the JSON answer instead, its masks as RLE, saying why.
        if (count <= MAX_PNG_LABEL) labelsPng = encodeLabelPng(labels);
      }
      const totalMs = performance.now() - task.arrived;
      const json = resultJson(processed, {
        id: task.id,
        seq: task.seq,
        segmenter: this.ctx.segmenter.name,
        queueMs: started - task.arrived,
        decodeMs,
        totalMs,
      });
      if (task.labels && !labelsPng) json.labels_png = labelPngOmitted(count, 'sent');
      this.metrics.recordFrame(task.mode, true, totalMs, processed.timings.segment);
      if (this.viewers.count > 0) {
        const { frame: fm } = processed.measurements;
        const diameters = processed.measurements.instances.slice(0, MAX_VIEWER_SIZES).map((m) => Math.round(m.equivalent_diameter * 100) / 100);
        this.viewers.publish({
          frame,
          segmentation: processed.segmentation,
          labels,
          stats: {
            id: task.id,
            seq: task.seq,
            mode: task.mode,
            width: frame.width,
            height: frame.height,
            count: json.count,
            area_fraction: fm.area_fraction,
            diameters,
            knobs: json.knobs,
            reward: json.reward,
            latency_ms: json.timings_ms.total,
            segment_ms: json.timings_ms.segment,
            fps: this.metrics.fps(),
            dropped_total: this.metrics.dropped,
          },
        });
      }
      return labelsPng ? { ok: true, json, labelsPng } : { ok: true, json };
    } catch (error) {
      const described = describeError(error);
      this.metrics.recordFrame(task.mode, false, performance.now() - task.arrived);
      if (described.status >= 500) this.onInternalError(error, `frame ${task.id} (${task.mode})`);
      return { ok: false, status: described.status, error: described.body, id: task.id, seq: task.seq };
    }
  }
}
