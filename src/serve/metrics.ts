/**
 * Counters and latency windows of a running server, and their Prometheus text
 * exposition (`GET /metrics`).
 */

/** The last `size` samples, for percentiles that follow the current load. */
export class SampleWindow {
  private readonly samples: Float64Array;
  private next = 0;
  private filled = 0;
  sum = 0;
  count = 0;

  constructor(size = 2048) {
    this.samples = new Float64Array(size);
  }

  push(value: number): void {
    this.samples[this.next] = value;
    this.next = (this.next + 1) % this.samples.length;
    this.filled = Math.min(this.filled + 1, this.samples.length);
    this.sum += value;
    this.count++;
  }

  /** Nearest-rank percentile of the window (q in [0, 1]); NaN when empty. */
  quantile(q: number): number {
    if (this.filled === 0) return NaN;
    const sorted = this.samples.slice(0, this.filled).sort();
    const rank = Math.min(this.filled - 1, Math.max(0, Math.ceil(q * this.filled) - 1));
    return sorted[rank];
  }
}

export type FrameMode = 'request' | 'stream';

export interface GaugeState {
  readonly queueDepth: number;
  readonly busy: boolean;
  readonly streams: number;
  readonly viewers: number;
}

export class ServeMetrics {
  readonly started = Date.now();
  readonly frames: Record<FrameMode, { ok: number; error: number }> = { request: { ok: 0, error: 0 }, stream: { ok: 0, error: 0 } };
  /** Stream frames dropped because newer ones arrived (latest frame wins). */
  dropped = 0;
  /** Requests refused with 503 (queue full or shutting down). */
  rejected = 0;
  /** HTTP answers by status class. */
  readonly http: Record<string, number> = {};
  /** Arrival → answer, ms, frames that were segmented. */
  readonly latency = new SampleWindow();
  /** Segmentation alone, ms. */
  readonly segment = new SampleWindow();
  private readonly completions: number[] = [];

  recordFrame(mode: FrameMode, ok: boolean, latencyMs: number, segmentMs?: number): void {
    this.frames[mode][ok ? 'ok' : 'error']++;
    if (!ok) return;
    this.latency.push(latencyMs);
    if (segmentMs !== undefined) this.segment.push(segmentMs);
    const now = Date.now();
    this.completions.push(now);
    while (this.completions.length > 0 && this.completions[0] < now - 10_000) this.completions.shift();
  }

  recordHttp(status: number): void {
    const key = `${Math.floor(status / 100)}xx`;
    this.http[key] = (this.http[key] ?? 0) + 1;
  }

  /** Frames completed per second over the last 10 s. */
  fps(): number {
    const now = Date.now();
    while (this.completions.length > 0 && this.completions[0] < now - 10_000) this.completions.shift();
    const span = Math.min(10_000, now - this.started);
    return span > 0 ? (this.completions.length * 1000) / span : 0;
  }

  get framesTotal(): number {
    return this.frames.request.ok + this.frames.request.error + this.frames.stream.ok + this.frames.stream.error;
  }

  prometheus(gauges: GaugeState): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, samples: [string, number][]): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) lines.push(`${name}${labels} ${formatNumber(value)}`);
    };
    const summary = (name: string, help: string, window: SampleWindow): void => {
      metric(name, 'summary', help, [
        ...[0.5, 0.9, 0.95, 0.99].map((q): [string, number] => [`{quantile="${q}"}`, window.quantile(q) / 1000]),
      ]);
      lines.push(`${name}_sum ${formatNumber(window.sum / 1000)}`, `${name}_count ${window.count}`);
    };
    metric('samstar_frames_total', 'counter', 'Frames answered, by mode and outcome.', [
      ['{mode="request",outcome="ok"}', this.frames.request.ok],
      ['{mode="request",outcome="error"}', this.frames.request.error],
      ['{mode="stream",outcome="ok"}', this.frames.stream.ok],
      ['{mode="stream",outcome="error"}', this.frames.stream.error],
    ]);
    metric('samstar_frames_dropped_total', 'counter', 'Stream frames dropped unprocessed because newer frames arrived (latest frame wins).', [['', this.dropped]]);
    metric('samstar_requests_rejected_total', 'counter', 'Requests refused with 503 (queue full or shutting down).', [['', this.rejected]]);
    metric(
      'samstar_http_responses_total',
      'counter',
      'HTTP answers by status class.',
      Object.entries(this.http).map(([k, v]): [string, number] => [`{status="${k}"}`, v]),
    );
    summary('samstar_frame_latency_seconds', 'Arrival to answer per segmented frame (last 2048 frames).', this.latency);
    summary('samstar_segment_seconds', 'Segmentation time per frame (last 2048 frames).', this.segment);
    metric('samstar_frames_per_second', 'gauge', 'Frames answered per second over the last 10 s.', [['', this.fps()]]);
    metric('samstar_queue_depth', 'gauge', 'Frames waiting to be segmented (requests and streams).', [['', gauges.queueDepth]]);
    metric('samstar_busy', 'gauge', '1 while a frame is being segmented.', [['', gauges.busy ? 1 : 0]]);
    metric('samstar_stream_connections', 'gauge', 'Open /v1/stream WebSockets.', [['', gauges.streams]]);
    metric('samstar_viewer_connections', 'gauge', 'Open viewer WebSockets.', [['', gauges.viewers]]);
    metric('process_resident_memory_bytes', 'gauge', 'Resident set size.', [['', process.memoryUsage.rss()]]);
    metric('process_start_time_seconds', 'gauge', 'Start time of the server, Unix seconds.', [['', this.started / 1000]]);
    return lines.join('\n') + '\n';
  }
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  return Number.isInteger(value) ? String(value) : value.toPrecision(6);
}
