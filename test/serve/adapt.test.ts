import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileReward, evaluateReward, parseRewardConfig } from '../../rewards/index.js';
import { frameFromPixels } from '../../src/image/load.js';
import { OnlineAdapter } from '../../src/policy/adapt.js';
import { BlobSegmenter } from '../../src/segmenters/blobs/segmenter.js';
import { FixedKnobChooser } from '../../src/serve/knob-chooser.js';
import type { ServeHandle } from '../../src/serve/server.js';
import { postImage, startTestServer, synthFrame } from './helpers.js';

const REWARD = parseRewardConfig({ measure: { foreground: 'bright' }, terms: { coverage: { type: 'coverage' }, overlap: { type: 'overlap' } }, total: 'coverage - overlap' }, 'test');

/** `samstar serve --adapt`: the chosen knobs are refined per frame on the reward; the answer says how. */
describe('serve with online adaptation', () => {
  let server: ServeHandle;
  const segmenter = new BlobSegmenter();
  const reward = compileReward(REWARD);
  const start = segmenter.knobs.resolve({ blob_threshold: 14, radius_scale: 0.6 });

  beforeAll(async () => {
    const adapter = new OnlineAdapter({ segmenter, reward, space: segmenter.knobs.subset(['blob_threshold', 'radius_scale']), budget: 6, sigma: 0.5, seed: 1 });
    server = await startTestServer({ segmenter, chooser: new FixedKnobChooser(start, 'test'), reward, adapter });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers the winner of the search, with its evaluations and the start\'s reward; never worse than the start', async () => {
    const frame = synthFrame(3, 96, 10);
    const r = await postImage(server, frame.png, { 'content-type': 'image/png' });
    expect(r.status).toBe(200);
    const body = await r.json();
    expect(body.adapt.evaluations).toBe(6);
    expect(body.adapt.timed_out).toBe(false);
    expect(body.adapt.total).toBeGreaterThanOrEqual(body.adapt.start);
    expect(body.reward.total).toBeCloseTo(body.adapt.total, 12);
    // The knobs answered are the winner's: segmenting with them reproduces the count and the reward.
    const decoded = frameFromPixels({ source: 'test', width: frame.width, height: frame.height, channels: 1, data: frame.samples });
    const again = await new BlobSegmenter().segment(decoded, body.knobs);
    expect(again.instances.length).toBe(body.count);
    expect(evaluateReward(reward, again, { frame: decoded }).total).toBeCloseTo(body.adapt.total, 9);
  });
});
