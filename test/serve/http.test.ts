import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode as decodePng, encode as encodePng } from 'fast-png';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileReward, loadRewardConfig } from '../../rewards/index.js';
import { loadFrame } from '../../src/image/load.js';
import { masksToLabelImage } from '../../src/masks/label-image.js';
import { BlobSegmenter } from '../../src/segmenters/blobs/segmenter.js';
import { encodeRleWindow } from '../../src/masks/rle.js';
import type { Instance, Segmenter } from '../../src/segmenters/types.js';
import type { ServeHandle } from '../../src/serve/server.js';
import { getJson, postImage, startTestServer, synthFrame, until } from './helpers.js';

/**
 * The real server on a free loopback port, over real HTTP: both body kinds,
 * labels=png, the info routes, every kind of bad request (4xx + JSON error, the
 * server stays up), a frame that fails inside the pipeline, and 503 when the
 * request queue is full.
 */

let server: ServeHandle;
let dir: string;
const frame = synthFrame(1, 96, 10);

/** The blob segmenter, failing on 13×13 frames (a pipeline error the server must survive). */
function flakySegmenter(): Segmenter {
  const inner = new BlobSegmenter();
  return {
    name: inner.name,
    knobs: inner.knobs,
    segment: async (f, k) => {
      if (f.width === 13) throw new Error('simulated failure inside the segmenter');
      return inner.segment(f, k);
    },
    dispose: () => inner.dispose(),
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samstar-serve-'));
  const reward = compileReward(await loadRewardConfig('configs/rewards/nanoparticles.yaml'));
  server = await startTestServer({ segmenter: flakySegmenter(), reward, maxBodyBytes: 256 * 1024, maxPixels: 200 * 200, requestQueue: 2 });
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('POST /v1/segment', () => {
  it('segments a PNG: instances, measurements, reward terms, knobs, timings', async () => {
    const r = await postImage(server, frame.png, { 'content-type': 'image/png', 'x-frame-id': 'cam-1' });
    expect(r.status).toBe(200);
    const body = await r.json();
    expect(body.id).toBe('cam-1');
    expect(body.width).toBe(96);
    expect(body.count).toBeGreaterThan(3);
    expect(body.instances).toHaveLength(body.count);
    const first = body.instances[0];
    expect(first.segmentation.size).toEqual([96, 96]);
    expect(Array.isArray(first.segmentation.counts)).toBe(true);
    expect(first.bbox).toHaveLength(4);
    expect(first.area).toBeGreaterThan(0);
    expect(typeof first.predicted_iou).toBe('number');
    expect(typeof first.stability_score).toBe('number');
    expect(body.measurements.frame.count).toBe(body.count);
    expect(body.measurements.instances).toHaveLength(body.count);
    expect(body.measurements.instances[0].area).toBe(first.area);
    expect(Object.keys(body.reward.terms)).toEqual(['size', 'shape', 'coverage', 'overlap', 'edge', 'border']);
    expect(Number.isFinite(body.reward.total)).toBe(true);
    expect(body.knobs).toEqual(new BlobSegmenter().knobs.defaults());
    for (const k of ['queue', 'decode', 'segment', 'measure', 'reward', 'total']) expect(body.timings_ms[k]).toBeGreaterThanOrEqual(0);
    expect(body.timings_ms.total).toBeGreaterThanOrEqual(body.timings_ms.segment);
  });

  it('decodes uploads as loadFrame decodes the file (same hash), and raw pixels of every dtype', async () => {
    const path = join(dir, 'frame.png');
    await writeFile(path, frame.png);
    const fromFile = await loadFrame(path);
    const png = await (await postImage(server, frame.png, { 'content-type': 'image/png' })).json();
    expect(png.frame_sha256).toBe(fromFile.hash);

    const raw8 = await postImage(server, frame.samples, { 'content-type': 'application/octet-stream', 'x-width': '96', 'x-height': '96', 'x-dtype': 'uint8', 'x-channels': '1' });
    expect(raw8.status).toBe(200);
    const r8 = await raw8.json();
    expect(r8.frame_sha256).toBe(fromFile.hash); // same samples, same frame
    expect(r8.count).toBe(png.count);

    const u16 = Uint16Array.from(frame.samples, (v) => v * 257);
    const raw16 = await (await postImage(server, new Uint8Array(u16.buffer), { 'content-type': 'application/octet-stream', 'x-width': '96', 'x-height': '96', 'x-dtype': 'uint16' })).json();
    expect(raw16.count).toBe(png.count); // the percentile stretch makes the scale irrelevant

    const f32 = Float32Array.from(frame.samples, (v) => v / 255);
    const rawF = await (await postImage(server, new Uint8Array(f32.buffer), { 'content-type': 'application/octet-stream', 'x-width': '96', 'x-height': '96', 'x-dtype': 'float32' })).json();
    expect(rawF.count).toBe(png.count);

    const tiff = await sharp(Buffer.from(frame.samples), { raw: { width: 96, height: 96, channels: 1 } }).tiff({ compression: 'lzw' }).toBuffer();
    await writeFile(join(dir, 'frame.tiff'), tiff);
    const t = await (await postImage(server, tiff, { 'content-type': 'image/tiff' })).json();
    expect(t.frame_sha256).toBe((await loadFrame(join(dir, 'frame.tiff'))).hash);
    expect(t.count).toBe(png.count);
  });

  it('?labels=png answers the 16-bit label PNG, equal to the JSON instances painted', async () => {
    const json = await (await postImage(server, frame.png, { 'content-type': 'image/png' })).json();
    const r = await postImage(server, frame.png, { 'content-type': 'image/png' }, '?labels=png');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/png');
    expect(Number(r.headers.get('x-count'))).toBe(json.count);
    expect(JSON.parse(r.headers.get('x-knobs')!)).toEqual(json.knobs);
    const png = decodePng(await r.bytes());
    expect([png.width, png.height, png.depth, png.channels]).toEqual([96, 96, 16, 1]);
    const expected = masksToLabelImage(json.instances.map((i: { segmentation: unknown }) => i.segmentation), 96, 96);
    expect(Array.from(png.data as Uint16Array)).toEqual(Array.from(expected.data));
    expect(Math.max(...(png.data as Uint16Array))).toBe(json.count);
  });

  it('?labels=png on a frame with more instances than a 16-bit PNG holds: the JSON answer, saying why', async () => {
    // One instance per pixel of a 260×260 frame (67 600 > 65 535).
    const dense: Segmenter = {
      name: 'dense',
      knobs: new BlobSegmenter().knobs,
      segment: async (f) => {
        const instances: Instance[] = [];
        for (let p = 0; p < f.width * f.height; p++) {
          const x = p % f.width;
          const y = Math.floor(p / f.width);
          instances.push({ segmentation: encodeRleWindow(new Uint8Array([1]), { x0: x, y0: y, w: 1, h: 1 }, f.width, f.height), area: 1, bbox: [x, y, 0, 0], predicted_iou: 1, stability_score: 1, point_coords: [[x, y]], crop_box: [0, 0, f.width, f.height] });
        }
        return { width: f.width, height: f.height, instances, knobs: {}, timings: {} };
      },
      dispose: async () => {},
    };
    const denseServer = await startTestServer({ segmenter: dense });
    try {
      const big = synthFrame(2, 260, 10);
      const r = await postImage(denseServer, big.png, { 'content-type': 'image/png' }, '?labels=png');
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      const body = await r.json();
      expect(body.count).toBe(260 * 260);
      expect(body.instances).toHaveLength(260 * 260);
      expect(body.labels_png).toBe(`not sent: ${260 * 260} instances do not fit a 16-bit PNG (at most 65535); the masks are the RLEs of "instances"`);
    } finally {
      await denseServer.close();
    }
  });
});

describe('info routes', () => {
  it('GET /v1/health, /v1/policy, /metrics', async () => {
    const health = await getJson(`${server.url}/v1/health`);
    expect(health).toMatchObject({ status: 'ok', segmenter: 'blobs', queue: { request_limit: 2, stream_buffer: 1 }, limits: { max_pixels: 40000 } });
    const policy = await getJson(`${server.url}/v1/policy`);
    expect(policy.chooser).toMatchObject({ kind: 'fixed', source: 'test' });
    expect(policy.chooser.knobs.blob_threshold).toBe(4);
    expect(policy.reward.terms).toContain('size');
    expect(policy.knob_space.map((k: { name: string }) => k.name)).toContain('blob_threshold');
    const metrics = await fetch(`${server.url}/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await metrics.text();
    const ok = Number(/samstar_frames_total\{mode="request",outcome="ok"\} (\d+)/.exec(text)?.[1]);
    expect(ok).toBeGreaterThanOrEqual(3);
    for (const name of ['samstar_frame_latency_seconds{quantile="0.99"}', 'samstar_queue_depth 0', 'samstar_frames_dropped_total 0', 'process_resident_memory_bytes']) {
      expect(text).toContain(name);
    }
  });
});

describe('bad requests get 4xx with a JSON error; the server keeps serving', () => {
  const raw = { 'content-type': 'application/octet-stream', 'x-width': '96', 'x-height': '96', 'x-dtype': 'uint8' };
  const cases: [string, () => Promise<Awaited<ReturnType<typeof postImage>>>, number, string][] = [
    ['a corrupt PNG', () => postImage(server, frame.png.subarray(0, 60), { 'content-type': 'image/png' }), 400, 'IMAGE_UNREADABLE'],
    ['bytes that are no image', () => postImage(server, 'definitely not an image', { 'content-type': 'image/jpeg' }), 400, 'IMAGE_UNREADABLE'],
    ['an empty body', () => postImage(server, new Uint8Array(0), { 'content-type': 'image/png' }), 400, 'BAD_REQUEST'],
    ['a GIF', () => postImage(server, Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64'), { 'content-type': 'image/png' }), 415, 'IMAGE_UNSUPPORTED'],
    ['text/plain', () => postImage(server, 'hello', { 'content-type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['JSON', () => postImage(server, '{"image": 1}', { 'content-type': 'application/json' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['no content type', () => postImage(server, frame.png, {}), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['raw pixels without x-height', () => postImage(server, frame.samples, { 'content-type': 'application/octet-stream', 'x-width': '96' }), 400, 'BAD_REQUEST'],
    ['raw pixels of the wrong length', () => postImage(server, frame.samples.subarray(1), raw), 400, 'BAD_REQUEST'],
    ['an unknown dtype', () => postImage(server, frame.samples, { ...raw, 'x-dtype': 'int64' }), 400, 'BAD_REQUEST'],
    ['NaN in float pixels', () => postImage(server, new Uint8Array(new Float32Array(96 * 96).fill(NaN).buffer), { ...raw, 'x-dtype': 'float32' }), 400, 'ARGUMENT_INVALID'],
    ['an oversize body', () => postImage(server, new Uint8Array(300 * 1024), raw), 413, 'BODY_TOO_LARGE'],
    ['too many raw pixels', () => postImage(server, new Uint8Array(250 * 250), { ...raw, 'x-width': '250', 'x-height': '250' }), 413, 'IMAGE_TOO_LARGE'],
    ['a PNG with too many pixels', async () => postImage(server, encodePng({ width: 300, height: 300, data: new Uint8Array(300 * 300), depth: 8, channels: 1 }), { 'content-type': 'image/png' }), 413, 'IMAGE_TOO_LARGE'],
    ['an unknown query parameter', () => postImage(server, frame.png, { 'content-type': 'image/png' }, '?labels=tiff'), 400, 'BAD_REQUEST'],
  ];
  for (const [what, send, status, code] of cases) {
    it(`${what} → ${status} ${code}`, async () => {
      const r = await send();
      expect(r.status).toBe(status);
      const body = await r.json();
      expect(body.error.code).toBe(code);
      expect(body.error.message.length).toBeGreaterThan(10);
    });
  }

  it('unknown paths and methods → 404 JSON', async () => {
    for (const [method, path] of [['GET', '/v2/segment'], ['GET', '/v1/segment'], ['DELETE', '/v1/health']]) {
      const r = await fetch(`${server.url}${path}`, { method });
      expect(r.status).toBe(404);
      expect(((await r.json()) as any).error.code).toBe('NOT_FOUND');
    }
    const plain = await fetch(`${server.url}/v1/stream`);
    expect(plain.status).toBe(426);
    expect(((await plain.json()) as any).error.code).toBe('UPGRADE_REQUIRED');
  });

  it('a frame that fails inside the pipeline → 500 JSON; the next frame is served', async () => {
    const r = await postImage(server, new Uint8Array(13 * 13).fill(7), { 'content-type': 'application/octet-stream', 'x-width': '13', 'x-height': '13', 'x-dtype': 'uint8' });
    expect(r.status).toBe(500);
    const body = await r.json();
    expect(body.error.code).toBe('INTERNAL');
    expect(body.error.message).toContain('simulated failure');
    const next = await postImage(server, frame.png, { 'content-type': 'image/png' });
    expect(next.status).toBe(200);
    expect((await fetch(`${server.url}/v1/health`)).status).toBe(200);
  });
});

describe('back-pressure', () => {
  it('skips a queued request whose client went away', async () => {
    const scheduler = server.service.scheduler;
    const framesBefore = server.service.metrics.framesTotal;
    scheduler.pause();
    try {
      const abort = new AbortController();
      const gone = fetch(`${server.url}/v1/segment`, { method: 'POST', body: frame.png, headers: { 'content-type': 'image/png' }, signal: abort.signal }).catch((e: Error) => e.name);
      await until(() => scheduler.depth === 1, 10_000, 'a queued request');
      abort.abort();
      expect(await gone).toBe('AbortError');
      await new Promise((r) => setTimeout(r, 100)); // the server sees the connection close
      scheduler.resume();
      await until(() => scheduler.depth === 0 && !scheduler.busy, 10_000, 'the queue to empty');
      expect(scheduler.droppedCount.cancelled).toBe(1);
      expect(server.service.metrics.framesTotal).toBe(framesBefore); // never segmented
    } finally {
      scheduler.resume();
    }
  });

  it('answers 503 with Retry-After when the request queue is full, then serves the queued ones', async () => {
    const scheduler = server.service.scheduler;
    scheduler.pause();
    try {
      const queued = [postImage(server, frame.png, { 'content-type': 'image/png', 'x-frame-id': 'q1' }), postImage(server, frame.png, { 'content-type': 'image/png', 'x-frame-id': 'q2' })];
      await until(() => scheduler.depth === 2, 10_000, 'two queued requests');
      const refused = await postImage(server, frame.png, { 'content-type': 'image/png' });
      expect(refused.status).toBe(503);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await refused.json()).error.code).toBe('QUEUE_FULL');
      scheduler.resume();
      const answers = await Promise.all(queued);
      expect(answers.map((a) => a.status)).toEqual([200, 200]);
      expect((await Promise.all(answers.map((a) => a.json()))).map((j) => j.id)).toEqual(['q1', 'q2']);
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toContain('samstar_requests_rejected_total 1');
    } finally {
      scheduler.resume();
    }
  });
});
