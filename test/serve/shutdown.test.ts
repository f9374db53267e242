import { describe, expect, it } from 'vitest';
import { BlobSegmenter } from '../../src/segmenters/blobs/segmenter.js';
import type { Segmenter } from '../../src/segmenters/types.js';
import { postImage, startTestServer, synthFrame, TestSocket, until } from './helpers.js';

/**
 * Graceful shutdown: the frame being segmented is answered, queued requests get
 * 503 SHUTTING_DOWN, streams and viewers are closed with 1001, then the port is free.
 */
describe('close()', () => {
  it('answers the running frame, refuses the queued ones, closes sockets', async () => {
    const inner = new BlobSegmenter();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started = 0;
    const slow: Segmenter = {
      name: inner.name,
      knobs: inner.knobs,
      segment: async (f, k) => {
        started++;
        await gate; // held until the test lets it go
        return inner.segment(f, k);
      },
      dispose: () => inner.dispose(),
    };
    const server = await startTestServer({ segmenter: slow });
    const frame = synthFrame(5, 64, 4);
    const stream = await TestSocket.open(`${server.url.replace('http', 'ws')}/v1/stream`);
    const viewer = await TestSocket.open(`${server.url.replace('http', 'ws')}/v1/viewer`);
    const running = postImage(server, frame.png, { 'content-type': 'image/png', 'x-frame-id': 'running' });
    await until(() => started === 1, 10_000, 'the first frame to start');
    const queued = postImage(server, frame.png, { 'content-type': 'image/png', 'x-frame-id': 'queued' });
    stream.sendFrame({ id: 'queued-stream' }, frame.png);
    await until(() => server.service.scheduler.depth === 2, 10_000, 'two queued frames');

    const closed = server.close();
    const refused = await queued;
    expect(refused.status).toBe(503);
    expect((await refused.json()).error.code).toBe('SHUTTING_DOWN');
    release();
    const answered = await running;
    expect(answered.status).toBe(200);
    expect((await answered.json()).id).toBe('running');
    await closed;
    await until(() => stream.closed !== null && viewer.closed !== null, 10_000, 'sockets closed');
    expect(stream.closed!.code).toBe(1001);
    expect(viewer.closed!.code).toBe(1001);
    expect(stream.pending).toBe(0); // the dropped stream frame got no answer
    await expect(fetch(`${server.url}/v1/health`)).rejects.toThrow();
  });
});
