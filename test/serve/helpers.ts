import { request as httpRequest } from 'node:http';
import { encode as encodePng } from 'fast-png';
import WebSocket from 'ws';
import { generateSynthFrame } from '../../src/data/synth.js';
import { BlobSegmenter } from '../../src/segmenters/blobs/segmenter.js';
import type { Segmenter } from '../../src/segmenters/types.js';
import { FixedKnobChooser, type KnobChooser } from '../../src/serve/knob-chooser.js';
import { startServer, type ServeHandle, type ServeOptions } from '../../src/serve/server.js';
import { Rng } from '../../src/util/rng.js';

/** A small synthetic particle frame: its 8-bit samples and the same as a PNG. */
export function synthFrame(seed: number, size = 96, count = 10): { samples: Uint8Array; png: Uint8Array; width: number; height: number } {
  const { samples } = generateSynthFrame({ width: size, height: size, count, diameter: { median: 10, sigma: 0.2 }, bitDepth: 8 }, new Rng(seed), `test-${seed}`);
  const data = samples instanceof Uint8Array ? samples : Uint8Array.from(samples, (v) => v >> 8);
  return { samples: data, png: encodePng({ width: size, height: size, data, depth: 8, channels: 1 }), width: size, height: size };
}

/** The real server on a free loopback port, with the weight-free blob segmenter unless told otherwise. */
export async function startTestServer(options: Partial<ServeOptions> & { segmenter?: Segmenter; chooser?: KnobChooser } = {}): Promise<ServeHandle> {
  const segmenter = options.segmenter ?? new BlobSegmenter();
  const chooser = options.chooser ?? new FixedKnobChooser(segmenter.knobs.defaults(), 'test');
  return startServer({ host: '127.0.0.1', port: 0, ...options, segmenter, chooser });
}

export async function postImage(
  server: ServeHandle,
  body: Uint8Array | string,
  headers: Record<string, string>,
  query = '',
): Promise<{ status: number; headers: Headers; json: () => Promise<any>; bytes: () => Promise<Uint8Array> }> {
  const response = await fetch(`${server.url}/v1/segment${query}`, { method: 'POST', body, headers, signal: AbortSignal.timeout(20_000) });
  let buffered: Uint8Array | undefined;
  const bytes = async (): Promise<Uint8Array> => (buffered ??= new Uint8Array(await response.arrayBuffer()));
  return { status: response.status, headers: response.headers, bytes, json: async () => JSON.parse(Buffer.from(await bytes()).toString('utf8')) };
}

/** A WebSocket client that queues what it receives, for `await next()`. */
export class TestSocket {
  readonly socket: WebSocket;
  private readonly received: (string | Buffer)[] = [];
  private readonly waiters: ((m: string | Buffer) => void)[] = [];
  closed: { code: number; reason: string } | null = null;

  private constructor(url: string, options?: WebSocket.ClientOptions) {
    this.socket = new WebSocket(url, options);
    this.socket.on('message', (data, isBinary) => {
      const message = isBinary ? (data as Buffer) : String(data);
      const waiter = this.waiters.shift();
      if (waiter) waiter(message);
      else this.received.push(message);
    });
    this.socket.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
    });
  }

  static async open(url: string, options?: WebSocket.ClientOptions): Promise<TestSocket> {
    const client = new TestSocket(url, options);
    await new Promise<void>((resolve, reject) => {
      client.socket.once('open', () => resolve());
      client.socket.once('error', reject);
    });
    return client;
  }

  /**
   * A WebSocket handshake: `{ opened: true, socket }` when the server upgraded, or the
   * HTTP answer it gave instead (status and body).
   */
  static attempt(url: string, options?: WebSocket.ClientOptions): Promise<{ opened: true; socket: TestSocket } | { opened: false; status: number; body: string }> {
    const client = new TestSocket(url, options);
    return new Promise((resolve, reject) => {
      client.socket.once('open', () => resolve({ opened: true, socket: client }));
      client.socket.once('unexpected-response', (_request, response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => resolve({ opened: false, status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      });
      client.socket.on('error', (error) => reject(error));
    });
  }

  next(timeoutMs = 15_000): Promise<string | Buffer> {
    const queued = this.received.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  }

  async nextJson(timeoutMs?: number): Promise<any> {
    const m = await this.next(timeoutMs);
    if (typeof m !== 'string') throw new Error(`expected a text message, got ${m.length} binary bytes`);
    return JSON.parse(m);
  }

  get pending(): number {
    return this.received.length;
  }

  /** Send a frame in the one-message form: [u32 LE header length][JSON header][bytes]. */
  sendFrame(header: Record<string, unknown>, payload: Uint8Array): void {
    this.socket.send(packFrame(header, payload));
  }

  close(): void {
    this.socket.close();
  }
}

export function packFrame(header: Record<string, unknown>, payload: Uint8Array): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(json.length, 0);
  return Buffer.concat([prefix, json, payload]);
}

/** Poll until `condition` holds (bounded). */
export async function until(condition: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** GET a JSON route. */
export async function getJson(url: string): Promise<any> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return response.json();
}

/** What a raw HTTP exchange answered (node:http, so that any Host, Origin or Authorization header can be sent). */
export interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  json(): any;
}

/** One HTTP request with exactly these headers (Host included, when given). */
export function rawHttp(url: string, options: { method?: string; headers?: Record<string, string>; body?: Uint8Array | string } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers, timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within 20 s`)));
    req.end(options.body);
  });
}

