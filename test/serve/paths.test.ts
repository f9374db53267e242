import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileReward, loadRewardConfig } from '../../rewards/index.js';
import { BlobSegmenter } from '../../src/segmenters/blobs/segmenter.js';
import type { Segmenter } from '../../src/segmenters/types.js';
import { hidePaths } from '../../src/serve/errors.js';
import { FixedKnobChooser } from '../../src/serve/knob-chooser.js';
import type { ServeHandle } from '../../src/serve/server.js';
import { SamstarError } from '../../src/util/errors.js';
import { rawHttp, startTestServer, synthFrame, TestSocket } from './helpers.js';

/**
 * No answer shows where files live on the serving machine: health names the model
 * files by name and sha256, /v1/policy names the knob file, policy and reward
 * config by name, and error answers (HTTP and stream) that come from library
 * errors naming a file keep only its name. The paths used are real ones of this
 * machine (the repository, the temp and home folders).
 */

const repo = resolve('.');
const models = join(repo, 'models');
const hidden = join(tmpdir(), 'samstar-hidden');
let server: ServeHandle;

/** Fails inside the pipeline naming absolute paths: 13 px wide → a plain Error, 17 px → a SamstarError with a hint. */
function leakySegmenter(): Segmenter {
  const inner = new BlobSegmenter();
  return {
    name: inner.name,
    knobs: inner.knobs,
    segment: async (f, k) => {
      if (f.width === 13) throw new Error(`cannot open ${join(hidden, 'enc.onnx')}: broken (see file://${join(homedir(), 'notes', 'x.txt')})`);
      if (f.width === 17) throw new SamstarError('MODEL_INVALID', `${join(models, 'dec.onnx')}: bad layout`, { hint: `check the files in ${models}/` });
      return inner.segment(f, k);
    },
    dispose: () => inner.dispose(),
  };
}

beforeAll(async () => {
  const segmenter = leakySegmenter();
  server = await startTestServer({
    segmenter,
    chooser: new FixedKnobChooser(segmenter.knobs.defaults(), join(repo, 'configs', 'knobs.yaml')),
    reward: compileReward(await loadRewardConfig(resolve('configs/rewards/nanoparticles.yaml'))),
    model: { encoder: join(models, 'enc.onnx'), decoder: join(models, 'dec.onnx'), encoder_sha256: 'a'.repeat(64), decoder_sha256: 'b'.repeat(64), layout: 'sam/sam' },
  });
});
afterAll(async () => {
  await server?.close();
});

/** Some absolute path of this machine, or a path under a usual root folder. */
function leaks(text: string): string[] {
  const found = [repo, tmpdir(), homedir()].filter((p) => p.length > 1 && text.includes(p));
  const generic = /(?<![\w.:/])\/(?:home|root|tmp|srv|usr|var|work|Users|opt|mnt|private)\/[^\s"]*/.exec(text);
  return generic ? [...found, generic[0]] : found;
}

const raw = (width: number): { body: Uint8Array; headers: Record<string, string> } => ({
  body: new Uint8Array(width * width).fill(9),
  headers: { 'content-type': 'application/octet-stream', 'x-width': String(width), 'x-height': String(width), 'x-dtype': 'uint8' },
});

describe('no answer contains an absolute path', () => {
  it('health, policy, metrics, the viewer page, 404s and error answers over HTTP', async () => {
    const frame = synthFrame(2, 64, 5);
    const answers = [
      await rawHttp(`${server.url}/`),
      await rawHttp(`${server.url}/v1/health`),
      await rawHttp(`${server.url}/v1/policy`),
      await rawHttp(`${server.url}/metrics`),
      await rawHttp(`${server.url}/nowhere`),
      await rawHttp(`${server.url}/v1/segment`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: frame.png }),
      await rawHttp(`${server.url}/v1/segment`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: frame.png.subarray(0, 50) }),
      await rawHttp(`${server.url}/v1/segment`, { method: 'POST', ...raw(13) }),
      await rawHttp(`${server.url}/v1/segment`, { method: 'POST', ...raw(17) }),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 404, 200, 400, 500, 500]);
    for (const a of answers) expect(leaks(a.text)).toEqual([]);

    const health = answers[1].json();
    expect(health.model).toEqual({ encoder: 'enc.onnx', decoder: 'dec.onnx', encoder_sha256: 'a'.repeat(64), decoder_sha256: 'b'.repeat(64), layout: 'sam/sam' });
    const policy = answers[2].json();
    expect(policy.chooser.source).toBe('knobs.yaml');
    expect(policy.reward.source).toBe('nanoparticles.yaml');
    // The failures still name the file, by name.
    expect(answers[7].json().error.message).toBe('internal error: cannot open enc.onnx: broken (see x.txt)');
    expect(answers[8].json().error).toMatchObject({ code: 'MODEL_INVALID', message: 'dec.onnx: bad layout', hint: 'check the files in models/' });
  });

  it('error messages on the stream', async () => {
    const client = await TestSocket.open(`${server.url.replace('http', 'ws')}/v1/stream`);
    try {
      client.sendFrame({ id: 'e13', format: 'raw', width: 13, height: 13, dtype: 'uint8' }, new Uint8Array(169).fill(9));
      client.sendFrame({ id: 'e17', format: 'raw', width: 17, height: 17, dtype: 'uint8' }, new Uint8Array(289).fill(9));
      for (const id of ['e13', 'e17']) {
        const text = (await client.next()) as string;
        expect(JSON.parse(text)).toMatchObject({ type: 'error', id });
        expect(leaks(text)).toEqual([]);
        expect(text).toMatch(/(enc|dec)\.onnx/);
      }
    } finally {
      client.close();
    }
  });

  it('hidePaths: absolute paths become file names; URLs and relative paths stay', () => {
    expect(hidePaths('failed at http://127.0.0.1:8080/v1/segment reading models/enc.onnx and /data/run 3/x.png')).toBe(
      'failed at http://127.0.0.1:8080/v1/segment reading models/enc.onnx and run 3/x.png', // a space ends a path: the folder is gone,
    );
    expect(hidePaths('C:\\Users\\lab\\models\\enc.onnx: bad')).toBe('enc.onnx: bad');
    expect(hidePaths('~/models/enc.onnx')).toBe('enc.onnx');
  });
});
