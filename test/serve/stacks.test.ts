import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServeHandle } from '../../src/serve/server.js';
import { encodeTiff, greyPage } from '../fixtures/tiff-writer.js';
import { postImage, startTestServer, synthFrame } from './helpers.js';

/** Uploads are frames: a stack is refused (one request, one frame), a channel is chosen by the server's --channel or refused. */
describe('serve: stacks and channels in uploads', () => {
  let plain: ServeHandle;
  let picking: ServeHandle;
  beforeAll(async () => {
    plain = await startTestServer();
    picking = await startTestServer({ channel: 1, pixelSizeNm: 650 });
  });
  afterAll(async () => {
    await plain.close();
    await picking.close();
  });

  it('a 3-page TIFF → 400 naming the frames, never page 0 alone', async () => {
    const tiff = encodeTiff([greyPage(32, 32, 10), greyPage(32, 32, 60), greyPage(32, 32, 110)]);
    const r = await postImage(plain, tiff, { 'content-type': 'image/tiff' });
    expect(r.status).toBe(400);
    expect(JSON.stringify(await r.json())).toContain('3 frames');
  });

  it('a two-channel TIFF: 400 without a channel; with serve --channel 1, the second channel is segmented', async () => {
    const { samples, width, height } = synthFrame(4);
    const data = new Uint8Array(width * height * 2);
    for (let p = 0; p < width * height; p++) data.set([0, samples[p]], 2 * p);
    const tiff = encodeTiff([{ width, height, samples: 2, data }], { extraSamples: [0] });
    const refused = await postImage(plain, tiff, { 'content-type': 'image/tiff' });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(await refused.json())).toContain('--channel');
    const picked = await postImage(picking, tiff, { 'content-type': 'image/tiff' });
    expect(picked.status).toBe(200);
    const grey = await postImage(plain, encodeTiff([{ width, height, samples: 1, data: samples }]), { 'content-type': 'image/tiff' });
    const [a, b] = [await picked.json(), await grey.json()];
    expect(a.instances.length).toBeGreaterThan(0);
    expect(a.instances.length).toBe(b.instances.length);
  });
});
