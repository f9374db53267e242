import { decode as decodePng } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServeHandle } from '../../src/serve/server.js';
import { postImage, startTestServer, synthFrame, TestSocket, until } from './helpers.js';

/**
 * /v1/stream over a real WebSocket: answers in order (both framings, errors
 * in their place), label PNGs, and latest-frame-wins under overload, made
 * deterministic by pausing the scheduler while frames arrive.
 */

const frames = [1, 2, 3, 4, 5, 6].map((seed) => synthFrame(seed, 80, 8));
let server: ServeHandle;
let deep: ServeHandle;

beforeAll(async () => {
  [server, deep] = await Promise.all([startTestServer({ streamBuffer: 1 }), startTestServer({ streamBuffer: 8 })]);
});
afterAll(async () => {
  await Promise.all([server?.close(), deep?.close()]);
});

const wsUrl = (s: ServeHandle): string => `${s.url.replace('http', 'ws')}/v1/stream`;

describe('/v1/stream', () => {
  it('answers every frame in order, in both framings, errors in their place', async () => {
    const client = await TestSocket.open(wsUrl(deep));
    try {
      client.sendFrame({ id: 'a', format: 'png' }, frames[0].png);
      client.socket.send(JSON.stringify({ id: 'b', format: 'raw', width: 80, height: 80, dtype: 'uint8' })); // text header …
      client.socket.send(frames[1].samples); // … then the pixels
      client.sendFrame({ id: 'c', format: 'raw', width: 80, height: 81, dtype: 'uint8' }, frames[2].samples); // wrong size
      client.sendFrame({ id: 'd' }, frames[3].png); // format defaults to an encoded image
      client.socket.send(Buffer.from([1, 2])); // too short for a header
      client.sendFrame({ id: 'f', format: 'bmp' }, frames[5].png);
      client.sendFrame({ id: 'g', format: 'png', labels: 'png' }, frames[4].png);

      const a = await client.nextJson();
      expect(a).toMatchObject({ type: 'result', id: 'a', width: 80, dropped: { ids: [], count: 0, total: 0 } });
      expect(a.instances.length).toBe(a.count);
      expect(a.count).toBeGreaterThan(0);
      const b = await client.nextJson();
      expect(b).toMatchObject({ type: 'result', id: 'b' });
      const c = await client.nextJson();
      expect(c).toMatchObject({ type: 'error', id: 'c', error: { code: 'BAD_REQUEST' } });
      expect(c.error.message).toContain('bytes');
      expect((await client.nextJson()).id).toBe('d');
      const e = await client.nextJson();
      expect(e).toMatchObject({ type: 'error', error: { code: 'BAD_REQUEST' } });
      expect((await client.nextJson()).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      const g = await client.nextJson();
      expect(g).toMatchObject({ type: 'result', id: 'g', labels_png: true });
      const labels = await client.next();
      expect(Buffer.isBuffer(labels)).toBe(true);
      const png = decodePng(labels as Buffer);
      expect([png.width, png.height, png.depth]).toEqual([80, 80, 16]);
      expect(Math.max(...(png.data as Uint16Array))).toBe(g.count);
      // seq counts frames in arrival order
      expect(a.seq).toBeLessThan(b.seq);
      expect(b.seq).toBeLessThan(g.seq);
    } finally {
      client.close();
    }
  });

  it('raw 16-bit and float pixels inside a stream message decode like the same pixels over HTTP', async () => {
    const client = await TestSocket.open(wsUrl(deep));
    try {
      const u16 = Uint16Array.from(frames[0].samples, (v) => v * 257 + 3);
      const f32 = Float32Array.from(frames[0].samples, (v) => v / 7);
      const http16 = await (await postImage(deep, new Uint8Array(u16.buffer), { 'content-type': 'application/octet-stream', 'x-width': '80', 'x-height': '80', 'x-dtype': 'uint16' })).json();
      const http32 = await (await postImage(deep, new Uint8Array(f32.buffer), { 'content-type': 'application/octet-stream', 'x-width': '80', 'x-height': '80', 'x-dtype': 'float32' })).json();
      // The payload sits after a header of odd length: the decoder must not assume an aligned buffer.
      client.sendFrame({ id: 'u16', format: 'raw', width: 80, height: 80, dtype: 'uint16', pad: 'x' }, new Uint8Array(u16.buffer));
      client.sendFrame({ id: 'f32', format: 'raw', width: 80, height: 80, dtype: 'float32', pad: 'xy' }, new Uint8Array(f32.buffer));
      const s16 = await client.nextJson();
      const s32 = await client.nextJson();
      expect(s16.frame_sha256).toBe(http16.frame_sha256);
      expect(s32.frame_sha256).toBe(http32.frame_sha256);
      expect(s16.count).toBe(http16.count);
      expect(s16.count).toBeGreaterThan(0);
    } finally {
      client.close();
    }
  });

  it('drops the oldest unprocessed frames when frames arrive faster than they are segmented (latest frame wins)', async () => {
    const client = await TestSocket.open(wsUrl(server));
    const scheduler = server.service.scheduler;
    try {
      scheduler.pause();
      for (let i = 0; i < 5; i++) client.sendFrame({ id: i + 1, format: 'png' }, frames[i].png);
      // Buffer of 1: each arrival replaced the one waiting; four dropped, frame 5 waits.
      await until(() => server.service.metrics.dropped === 4, 10_000, 'four drops');
      expect(scheduler.depth).toBe(1);
      expect(client.pending).toBe(0); // dropped frames get no answer of their own
      scheduler.resume();
      const r = await client.nextJson();
      expect(r).toMatchObject({ type: 'result', id: 5, dropped: { ids: [1, 2, 3, 4], count: 4, total: 4 } });

      // Next round: frame 6 alone is answered with nothing newly dropped.
      client.sendFrame({ id: 6, format: 'png' }, frames[5].png);
      expect(await client.nextJson()).toMatchObject({ id: 6, dropped: { ids: [], count: 0, total: 4 } });
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toContain('samstar_frames_dropped_total 4');
    } finally {
      scheduler.resume();
      client.close();
    }
  });

  it('keeps the newest `streamBuffer` frames: drops are reported by the next surviving frame', async () => {
    const client = await TestSocket.open(wsUrl(deep));
    const scheduler = deep.service.scheduler;
    try {
      // Paused: all six frames wait; a buffer of 8 keeps them all.
      scheduler.pause();
      for (let i = 0; i < 6; i++) client.sendFrame({ id: `f${i}` }, frames[i].png);
      await until(() => scheduler.depth === 6, 10_000, 'six queued frames');
      scheduler.resume();
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push((await client.nextJson()).id);
      expect(ids).toEqual(['f0', 'f1', 'f2', 'f3', 'f4', 'f5']); // buffer 8: nothing dropped, order kept
    } finally {
      scheduler.resume();
      client.close();
    }
  });

  it('requests and streams share one queue; a stream closing drops its waiting frames', async () => {
    const client = await TestSocket.open(wsUrl(server));
    const scheduler = server.service.scheduler;
    try {
      scheduler.pause();
      client.sendFrame({ id: 'gone' }, frames[0].png);
      await until(() => scheduler.depth === 1, 10_000, 'a queued stream frame');
      const request = postImage(server, frames[1].png, { 'content-type': 'image/png' });
      await until(() => scheduler.depth === 2, 10_000, 'a queued request');
      client.close();
      await until(() => scheduler.depth === 1, 10_000, 'the closed stream’s frame to leave the queue');
      scheduler.resume();
      expect((await request).status).toBe(200);
    } finally {
      scheduler.resume();
    }
  });
});
