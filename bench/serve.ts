/**
 * `samstar serve` under load: the bundled model on 512×512 synthetic frames, a
 * loopback client in its own process.
 *
 *  1. direct: SamSegmenter.segment in this process, back to back (the ceiling);
 *  2. request: POST /v1/segment (raw pixels), the next frame sent as soon as the
 *     answer arrives (an acquisition loop): frames/s, latency p50/p95/p99.
 *     Phases 1 and 2 alternate in four blocks each, so that the background load of
 *     a shared machine weighs on both alike;
 *  3. stream overload: /v1/stream at 3× the request-mode rate for the same time:
 *     drop rate (latest frame wins), latency of the answered frames, RSS growth;
 *  4. request overload: POST at 3× the rate, open loop: 200s and 503s, nothing else.
 *
 * Every frame is distinct (one of 8 synthetic frames with a frame counter stamped
 * into three corner pixels), so no request is answered from the segmenter's caches.
 *
 * Args: --pps N (points_per_side, default 16), --seconds S per phase (default 20).
 * Last line: {"bench":"serve","fps":…,"p50_ms":…,"p95_ms":…,"p99_ms":…,
 *             "ratio_to_direct":…,"overload_drop_rate":…,"rss_growth_mb":…}
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { generateSynthFrame } from '../src/data/synth.js';
import { frameFromPixels } from '../src/image/from-pixels.js';
import { SamSegmenter } from '../src/segmenters/sam/segmenter.js';
import { FixedKnobChooser } from '../src/serve/knob-chooser.js';
import { SERVE_CACHE_MB, serveCacheBudgets } from '../src/serve/segmenter.js';
import { startServer } from '../src/serve/server.js';
import { Rng } from '../src/util/rng.js';
import { machineLine, median } from './_machine.js';

const SIZE = 512;
const BASE_FRAMES = 8;

interface Options {
  pps: number;
  seconds: number;
}

function parseArgs(args: string[]): Options {
  const value = (name: string, fallback: number): number => {
    const i = args.indexOf(`--${name}`);
    const v = i >= 0 ? Number(args[i + 1]) : fallback;
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
    return v;
  };
  return { pps: value('pps', 16), seconds: value('seconds', 20) };
}

/** The synthetic frames (8-bit samples), generated once. */
function baseFrames(): Uint8Array[] {
  return Array.from({ length: BASE_FRAMES }, (_, i) => {
    const { samples } = generateSynthFrame({ width: SIZE, height: SIZE, count: 40, diameter: { median: 20, sigma: 0.25 }, bitDepth: 8 }, new Rng(100 + i), `bench-${i}`);
    return samples as Uint8Array;
  });
}

/** Frame k: base frame k mod 8 with k stamped into three corner pixels (a distinct frame hash per k). */
function stamped(bases: Uint8Array[], k: number): Uint8Array {
  const out = bases[k % bases.length].slice();
  out[0] = k & 255;
  out[1] = (k >> 8) & 255;
  out[2] = (k >> 16) & 255;
  return out;
}

const percentile = (values: number[], q: number): number => {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};
const round = (v: number, digits = 1): number => Number(v.toFixed(digits));

// ---------------------------------------------------------------- the client (child process)

interface ClientConfig {
  readonly url: string;
  readonly mode: 'request' | 'stream' | 'request-overload';
  readonly seconds: number;
  /** Frames per second for the open-loop modes. */
  readonly rate?: number;
  /** First frame counter (distinct ranges per phase: no cache hits). */
  readonly counter: number;
}

interface ClientResult {
  sent: number;
  answered: number;
  errors: number;
  dropped: number;
  statuses: Record<string, number>;
  latencies: number[];
  /** Server-side timings of each answer (request mode), ms. */
  timings: Record<string, number[]>;
  seconds: number;
}

async function client(config: ClientConfig, bases: Uint8Array[]): Promise<ClientResult> {
  const result: ClientResult = { sent: 0, answered: 0, errors: 0, dropped: 0, statuses: {}, latencies: [], timings: {}, seconds: 0 };
  const headers = { 'content-type': 'application/octet-stream', 'x-width': String(SIZE), 'x-height': String(SIZE), 'x-dtype': 'uint8' };
  const started = performance.now();
  const end = started + config.seconds * 1000;
  let k = config.counter;
  if (config.mode === 'request') {
    // Closed loop: the next frame goes as soon as the answer is back.
    while (performance.now() < end) {
      const body = stamped(bases, k++);
      const t0 = performance.now();
      const response = await fetch(`${config.url}/v1/segment`, { method: 'POST', body, headers });
      const text = await response.text();
      result.sent++;
      result.statuses[response.status] = (result.statuses[response.status] ?? 0) + 1;
      if (response.status === 200) {
        result.answered++;
        result.latencies.push(performance.now() - t0);
        const t = (JSON.parse(text) as { timings_ms: Record<string, number> }).timings_ms;
        for (const key of ['queue', 'decode', 'segment', 'measure', 'total']) (result.timings[key] ??= []).push(t[key]);
      } else result.errors++;
    }
  } else if (config.mode === 'request-overload') {
    const inflight: Promise<void>[] = [];
    const interval = 1000 / config.rate!;
    for (let i = 0; performance.now() < end; i++) {
      const due = started + i * interval;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const body = stamped(bases, k++);
      const t0 = performance.now();
      result.sent++;
      inflight.push(
        fetch(`${config.url}/v1/segment`, { method: 'POST', body, headers }).then(async (response) => {
          await response.arrayBuffer();
          result.statuses[response.status] = (result.statuses[response.status] ?? 0) + 1;
          if (response.status === 200) {
            result.answered++;
            result.latencies.push(performance.now() - t0);
          } else result.errors++;
        }),
      );
    }
    await Promise.all(inflight);
  } else {
    // Open loop over the stream: frames at a fixed rate whatever the server does.
    const socket = new WebSocket(`${config.url.replace('http', 'ws')}/v1/stream`);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const sentAt = new Map<number, number>();
    let lastId = -1;
    let finished: (() => void) | null = null;
    socket.on('message', (data) => {
      const m = JSON.parse(String(data)) as { type: string; id: number; dropped: { ids: number[]; total: number } };
      result.dropped = m.dropped.total;
      for (const id of m.dropped.ids) sentAt.delete(id);
      if (m.type === 'result') {
        result.answered++;
        result.latencies.push(performance.now() - sentAt.get(m.id)!);
      } else result.errors++;
      sentAt.delete(m.id);
      if (m.id === lastId) finished?.();
    });
    const interval = 1000 / config.rate!;
    for (let i = 0; performance.now() < end; i++) {
      const due = started + i * interval;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const id = k++;
      const header = Buffer.from(JSON.stringify({ id, format: 'raw', width: SIZE, height: SIZE, dtype: 'uint8' }));
      const prefix = Buffer.alloc(4);
      prefix.writeUInt32LE(header.length);
      sentAt.set(id, performance.now());
      socket.send(Buffer.concat([prefix, header, stamped(bases, id)]));
      lastId = id;
      result.sent++;
    }
    // The newest frame is never dropped: its answer ends the phase.
    if (sentAt.has(lastId)) await new Promise<void>((resolve) => (finished = resolve));
    socket.close();
  }
  result.seconds = (performance.now() - started) / 1000;
  return result;
}

/** The client process: started once, runs one phase per message (`process.send`), exits when told. */
class ClientProcess {
  private readonly child;
  private pending: ((result: ClientResult) => void) | null = null;
  private failed: Error | null = null;

  constructor() {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..');
    this.child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench', 'run.ts'), 'serve', '--client'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (result) => {
      const resolve = this.pending;
      this.pending = null;
      resolve?.(result as ClientResult);
    });
    this.child.on('exit', (code) => {
      this.failed = new Error(`bench client exited with ${code}`);
    });
  }

  run(config: ClientConfig): Promise<ClientResult> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.pending = resolve;
      this.child.once('exit', () => reject(this.failed));
      this.child.send(config);
    });
  }

  close(): void {
    this.child.send('exit');
  }
}

/** The child side: frames generated once, then one phase per message from the parent. */
async function clientMain(): Promise<void> {
  const bases = baseFrames();
  await new Promise<void>((done) => {
    process.on('message', (message) => {
      if (message === 'exit') {
        process.disconnect();
        done();
        return;
      }
      void client(message as ClientConfig, bases).then((result) => process.send!(result));
    });
  });
}

/** Results of several blocks of one phase, together. */
function merge(results: ClientResult[]): ClientResult {
  const out: ClientResult = { sent: 0, answered: 0, errors: 0, dropped: 0, statuses: {}, latencies: [], timings: {}, seconds: 0 };
  for (const r of results) {
    out.sent += r.sent;
    out.answered += r.answered;
    out.errors += r.errors;
    out.dropped += r.dropped;
    out.seconds += r.seconds;
    out.latencies.push(...r.latencies);
    for (const [k, v] of Object.entries(r.statuses)) out.statuses[k] = (out.statuses[k] ?? 0) + v;
    for (const [k, v] of Object.entries(r.timings)) (out.timings[k] ??= []).push(...v);
  }
  return out;
}

// ---------------------------------------------------------------- the bench (server process)

export async function run(args: string[] = []): Promise<void> {
  if (args[0] === '--client') return clientMain();
  const options = parseArgs(args);
  console.log(machineLine());
  console.log(`frames: ${SIZE}×${SIZE}, ${BASE_FRAMES} synthetic frames with a frame counter (every frame distinct); bundled model, points_per_side ${options.pps}; ${options.seconds} s per phase`);
  // The segmenter as `samstar serve` loads it (serving cache budgets).
  const segmenter = await SamSegmenter.load({ intraOpThreads: 1, ...serveCacheBudgets() });
  const knobs = segmenter.knobs.resolve({ points_per_side: options.pps, pred_iou_thresh: 0.7, stability_score_thresh: 0.8 });
  const bases = baseFrames();

  // 1. direct, in process (same frames, counters of their own range): the ceiling.
  const warm = frameFromPixels({ source: 'warm', width: SIZE, height: SIZE, channels: 1, data: stamped(bases, 9_000_000) });
  await segmenter.segment(warm, knobs);
  const directTimes: number[] = [];
  let masks = 0;
  let directCounter = 1_000_000;
  const direct = async (seconds: number): Promise<void> => {
    const start = performance.now();
    while (performance.now() - start < seconds * 1000) {
      const k = directCounter++;
      const frame = frameFromPixels({ source: `direct-${k}`, width: SIZE, height: SIZE, channels: 1, data: stamped(bases, k) });
      const t0 = performance.now();
      masks += (await segmenter.segment(frame, knobs)).instances.length;
      directTimes.push(performance.now() - t0);
    }
  };
  const server = await startServer({ segmenter, chooser: new FixedKnobChooser(knobs, 'bench'), host: '127.0.0.1', port: 0 });
  const client = new ClientProcess();
  try {
    // 2. request mode, closed loop, in blocks alternating with direct ones: the machine's
    // background load (this is a shared 2-core box) then weighs on both alike.
    const rssBefore = process.memoryUsage.rss();
    const blocks: ClientResult[] = [];
    const BLOCKS = 4;
    for (let b = 0; b < BLOCKS; b++) {
      await direct(options.seconds / BLOCKS);
      blocks.push(await client.run({ url: server.url, mode: 'request', seconds: options.seconds / BLOCKS, counter: b * 100_000 }));
    }
    const req = merge(blocks);
    const directSeconds = directTimes.reduce((a, b) => a + b, 0) / 1000;
    const directFps = directTimes.length / directSeconds;
    console.log(`direct: ${directTimes.length} frames, ${directFps.toFixed(3)} frames/s (median ${median(directTimes).toFixed(0)} ms per frame, ${(masks / directTimes.length).toFixed(1)} masks per frame)`);
    const fps = req.answered / req.seconds;
    const p50 = percentile(req.latencies, 0.5);
    const p95 = percentile(req.latencies, 0.95);
    const p99 = percentile(req.latencies, 0.99);
    console.log(`request (${BLOCKS} blocks alternating with direct ones): ${req.answered} frames in ${req.seconds.toFixed(1)} s, ${fps.toFixed(3)} frames/s; latency p50 ${p50.toFixed(0)} ms, p95 ${p95.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms; statuses ${JSON.stringify(req.statuses)}`);
    console.log(`  server side, median ms: ${Object.entries(req.timings).map(([k, v]) => `${k} ${median(v).toFixed(1)}`).join(', ')}`);
    const ratio = fps / directFps;
    console.log(`server / direct throughput: ${ratio.toFixed(3)}`);

    // 3. stream at 3× the rate the server sustains.
    const rate = 3 * fps;
    const rss: number[] = [];
    const sample = setInterval(() => rss.push(process.memoryUsage.rss()), 250);
    rss.push(process.memoryUsage.rss());
    const stream = await client.run({ url: server.url, mode: 'stream', seconds: options.seconds, rate, counter: 2_000_000 });
    rss.push(process.memoryUsage.rss());
    const dropRate = stream.dropped / stream.sent;
    console.log(
      `stream at 3× (${rate.toFixed(2)} frames/s sent): ${stream.sent} sent, ${stream.answered} answered, ${stream.dropped} dropped (latest frame wins), ${stream.errors} errors; ` +
        `drop rate ${dropRate.toFixed(3)}; answered latency p50 ${percentile(stream.latencies, 0.5).toFixed(0)} ms, p99 ${percentile(stream.latencies, 0.99).toFixed(0)} ms; ` +
        `${stream.answered + stream.dropped + stream.errors === stream.sent ? 'every frame accounted for' : 'FRAMES UNACCOUNTED FOR'}`,
    );

    // 4. requests at 3×, open loop: the queue fills and the rest is refused with 503.
    const over = await client.run({ url: server.url, mode: 'request-overload', seconds: Math.max(5, options.seconds / 2), rate, counter: 3_000_000 });
    rss.push(process.memoryUsage.rss());
    clearInterval(sample);
    console.log(`requests at 3×: ${over.sent} sent, statuses ${JSON.stringify(over.statuses)} (503 = queue full, with Retry-After); answered latency p50 ${percentile(over.latencies, 0.5).toFixed(0)} ms, p99 ${percentile(over.latencies, 0.99).toFixed(0)} ms`);

    const health = await fetch(`${server.url}/v1/health`);
    const healthy = health.status === 200 && ((await health.json()) as { status: string }).status === 'ok';
    // First vs last quarter of the samples (medians): allocator noise is ±tens of MB either way.
    const quarter = Math.max(1, Math.floor(rss.length / 4));
    const start = rss.slice(0, quarter);
    const last = rss.slice(-quarter);
    const growth = (median(last) - median(start)) / 2 ** 20;
    console.log(
      `server after overload: ${healthy ? 'healthy' : 'NOT HEALTHY'}; RSS ${(median(start) / 2 ** 20).toFixed(0)} → ${(median(last) / 2 ** 20).toFixed(0)} MB over the overload phases ` +
        `(peak ${(Math.max(...rss) / 2 ** 20).toFixed(0)} MB; ${(rssBefore / 2 ** 20).toFixed(0)} MB before the first request; stage caches ${(segmenter.cacheStats().embeddings.bytes / 2 ** 20).toFixed(0)} + ${(segmenter.cacheStats().proposals.bytes / 2 ** 20).toFixed(0)} MiB of ${SERVE_CACHE_MB})`,
    );
    const statusesOk = Object.keys(over.statuses).every((s) => s === '200' || s === '503');
    if (!healthy || !statusesOk || stream.errors > 0) console.log('WARNING: the server misbehaved under overload (see above)');

    console.log(
      JSON.stringify({
        bench: 'serve',
        fps: round(fps, 3),
        p50_ms: round(p50),
        p95_ms: round(p95),
        p99_ms: round(p99),
        ratio_to_direct: round(ratio, 3),
        overload_drop_rate: round(dropRate, 3),
        rss_growth_mb: round(growth),
      }),
    );
  } finally {
    client.close();
    await server.close();
    await segmenter.dispose();
  }
}
