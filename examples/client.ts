/**
 * Clients of `samstar serve` in TypeScript (Node ≥ 20: fetch is built in; the
 * WebSocket comes from the `ws` package).
 *
 *   samstar serve --knobs '{"points_per_side": 16}'          # in another terminal
 *   npx tsx examples/client.ts http://127.0.0.1:8080 [image.png]
 *
 * When the server wants a token (`--token`, SAMSTAR_TOKEN, `--token auto`), pass the
 * URL it printed (`http://host:8080/?token=…`), or set SAMSTAR_TOKEN here too. The
 * token goes out as `Authorization: Bearer …` on every request and WebSocket.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';

interface Answer {
  type?: 'result' | 'error';
  id: string | number;
  count: number;
  knobs: Record<string, number | string>;
  instances: { segmentation: { size: [number, number]; counts: number[] }; area: number; bbox: number[]; predicted_iou: number; stability_score: number }[];
  measurements: { frame: { count: number; area_fraction: number }; instances: { equivalent_diameter: number; circularity: number }[] };
  reward: { total: number; terms: Record<string, number> } | null;
  timings_ms: { total: number; segment: number };
  dropped?: { ids: (string | number)[]; count: number; total: number };
  error?: { code: string; message: string; hint?: string };
}

/** Where the server is, and its token (if it wants one). */
export interface Server {
  url: string;
  token?: string;
}

/** `http://host:port[/?token=…]` (the URL samstar serve prints) → the server; the token may also come from SAMSTAR_TOKEN. */
export function server(address: string, token = process.env.SAMSTAR_TOKEN): Server {
  const u = new URL(address);
  const fromUrl = u.searchParams.get('token') ?? undefined;
  return { url: `${u.protocol}//${u.host}`, token: fromUrl ?? (token || undefined) };
}

const auth = (s: Server): Record<string, string> => (s.token ? { authorization: `Bearer ${s.token}` } : {});

const CONTENT_TYPES: Record<string, string> = { '.png': 'image/png', '.tif': 'image/tiff', '.tiff': 'image/tiff', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg' };

/** POST /v1/segment, waiting and retrying while the queue (or this client's share of it) is full: 503 + Retry-After. */
async function post(s: Server, body: Uint8Array, headers: Record<string, string>, query = ''): Promise<Response> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const response = await fetch(`${s.url}/v1/segment${query}`, { method: 'POST', body, headers: { ...headers, ...auth(s) } });
    if (response.status === 503) {
      await new Promise((r) => setTimeout(r, 1000 * Number(response.headers.get('retry-after') ?? 1)));
      continue;
    }
    if (!response.ok) {
      // Every error answer is JSON; 401 UNAUTHORIZED: missing or wrong token.
      const { error } = (await response.json()) as { error: { code: string; message: string; hint?: string } };
      throw new Error(`${response.status} ${error.code}: ${error.message}${error.hint ? ` (${error.hint})` : ''}`);
    }
    return response;
  }
  throw new Error('server busy: gave up after retries');
}

/** An image file (PNG / TIFF / JPEG). */
export async function segmentFile(s: Server, path: string): Promise<Answer> {
  const type = CONTENT_TYPES[extname(path).toLowerCase()];
  if (!type) throw new Error(`${path}: send PNG, TIFF or JPEG`);
  return (await post(s, await readFile(path), { 'content-type': type })).json() as Promise<Answer>;
}

/** Raw pixels straight from a camera buffer (row-major, little-endian). */
export interface RawFrame {
  width: number;
  height: number;
  channels?: number;
  data: Uint8Array | Uint16Array | Float32Array;
}

function rawRequest(frame: RawFrame): { body: Uint8Array; headers: Record<string, string> } {
  const dtype = frame.data instanceof Uint8Array ? 'uint8' : frame.data instanceof Uint16Array ? 'uint16' : 'float32';
  return {
    body: new Uint8Array(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength),
    headers: { 'content-type': 'application/octet-stream', 'x-width': String(frame.width), 'x-height': String(frame.height), 'x-dtype': dtype, 'x-channels': String(frame.channels ?? 1) },
  };
}

export async function segmentPixels(s: Server, frame: RawFrame): Promise<Answer> {
  const { body, headers } = rawRequest(frame);
  return (await post(s, body, headers)).json() as Promise<Answer>;
}

/** The 16-bit instance label PNG (0 = background, 1..n = instances). */
export async function labelPng(s: Server, frame: RawFrame): Promise<{ png: Uint8Array; count: number }> {
  const { body, headers } = rawRequest(frame);
  const response = await post(s, body, headers, '?labels=png');
  return { png: new Uint8Array(await response.arrayBuffer()), count: Number(response.headers.get('x-count')) };
}

/**
 * A WebSocket stream: frames go out as they are acquired (`fps`), answers come back
 * in order; frames the server could not get to are dropped, oldest first, and listed
 * in the next answer's `dropped.ids`.
 */
export async function stream(s: Server, frames: Iterable<RawFrame>, fps: number, onAnswer: (a: Answer) => void): Promise<void> {
  // Node's ws sends no Origin header, as the server expects of clients outside a browser.
  const socket = new WebSocket(`${s.url.replace(/^http/, 'ws')}/v1/stream`, { headers: auth(s) });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject); // e.g. "Unexpected server response: 401" without the right token
  });
  let lastId = -1;
  let sending = true;
  const done = new Promise<void>((resolve) => {
    socket.on('message', (data) => {
      const answer = JSON.parse(String(data)) as Answer;
      onAnswer(answer);
      if (!sending && answer.id === lastId) resolve(); // the newest frame is never dropped
    });
  });
  let id = 0;
  for (const frame of frames) {
    const dtype = frame.data instanceof Uint8Array ? 'uint8' : frame.data instanceof Uint16Array ? 'uint16' : 'float32';
    const header = Buffer.from(JSON.stringify({ id, format: 'raw', width: frame.width, height: frame.height, dtype, channels: frame.channels ?? 1 }));
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32LE(header.length); // one binary message: [u32 LE header length][JSON header][pixels]
    socket.send(Buffer.concat([prefix, header, new Uint8Array(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength)]));
    lastId = id++;
    await new Promise((r) => setTimeout(r, 1000 / fps));
  }
  sending = false;
  await done;
  socket.close();
}

/** Bright round particles on a noisy background, 16-bit. */
function syntheticFrame(seed: number, size = 256, count = 25): RawFrame {
  let s = seed * 7919 + 1;
  const random = (): number => ((s = (s * 16807) % 2147483647) / 2147483647);
  const data = new Uint16Array(size * size);
  const particles = Array.from({ length: count }, () => ({ y: 10 + random() * (size - 20), x: 10 + random() * (size - 20), r: 3 + random() * 4 }));
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let v = 400 + (random() - 0.5) * 120;
      for (const p of particles) v += 2500 * Math.exp(-((y - p.y) ** 2 + (x - p.x) ** 2) / (2 * (p.r / 1.5) ** 2));
      data[y * size + x] = Math.min(65535, Math.max(0, Math.round(v)));
    }
  }
  return { width: size, height: size, data };
}

async function main(): Promise<void> {
  const s = server(process.argv[2] ?? 'http://127.0.0.1:8080');
  const healthResponse = await fetch(`${s.url}/v1/health`, { headers: auth(s) });
  if (healthResponse.status === 401) throw new Error('401: the server wants a token: pass the URL it printed (…/?token=…) or set SAMSTAR_TOKEN');
  const health = (await healthResponse.json()) as { status: string };
  console.log('health:', health.status);
  if (process.argv[3]) {
    const answer = await segmentFile(s, process.argv[3]);
    console.log(`${process.argv[3]}: ${answer.count} instances in ${answer.timings_ms.total.toFixed(0)} ms`);
  }
  const answer = await segmentPixels(s, syntheticFrame(0));
  const sizes = answer.measurements.instances.map((m) => m.equivalent_diameter);
  console.log(`raw frame: ${answer.count} instances, mean diameter ${(sizes.reduce((a, b) => a + b, 0) / Math.max(1, sizes.length)).toFixed(1)} px, knobs ${JSON.stringify(answer.knobs)}`);
  const { png, count } = await labelPng(s, syntheticFrame(0));
  console.log(`label PNG: ${png.length} bytes, ${count} instances`);
  console.log('stream (20 frames at 10 frames/s):');
  const frames = Array.from({ length: 20 }, (_, i) => syntheticFrame(i));
  await stream(s, frames, 10, (a) => {
    if (a.type === 'error') console.log(`  frame ${a.id}: error ${a.error!.code}: ${a.error!.message}`);
    else console.log(`  frame ${a.id}: ${a.count} instances, ${a.timings_ms.total.toFixed(0)} ms, dropped before it: [${a.dropped!.ids.join(', ')}]`);
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
