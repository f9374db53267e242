import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadRewardConfig, parseRewardConfig } from '../../rewards/index.js';
import { loadTaskConfig } from '../../src/config/task.js';
import { describeRedisUrl, redisOptions } from '../../src/distributed/connection.js';
import { decodeFrame, decodeTruth, encodeFrame, encodeTruth, pathInside, relativeToRoot, truthKey } from '../../src/distributed/frames.js';
import { parseJob, resultSchema, type EvaluateJob } from '../../src/distributed/protocol.js';
import { rewardWire, segmenterWire } from '../../src/distributed/wire.js';
import { frameFromPixels } from '../../src/image/from-pixels.js';
import { BlobSegmenter } from '../../src/segmenters/blobs/segmenter.js';
import { SamSegmenter } from '../../src/segmenters/sam/segmenter.js';
import type { Segmenter } from '../../src/segmenters/types.js';
import { SamstarError } from '../../src/util/errors.js';
import { packageRoot } from '../../src/util/package-root.js';

/** The pieces of the distributed protocol that need no Redis: URLs, blobs, paths, wire forms, job validation, the task block. */
describe('distributed protocol', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'samstar-protocol-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads Redis URLs (user, password, db, TLS), masks the password, refuses other schemes', () => {
    const o = redisOptions({ url: 'rediss://alice:p%40ss@queue.lab:6380/2' }, () => undefined);
    expect(o).toMatchObject({ host: 'queue.lab', port: 6380, username: 'alice', password: 'p@ss', db: 2, tls: { servername: 'queue.lab' }, maxRetriesPerRequest: null });
    expect(redisOptions({ url: 'redis://localhost' }, () => undefined)).toMatchObject({ host: 'localhost', port: 6379, db: 0 });
    expect(describeRedisUrl('redis://:secret@h:1')).not.toContain('secret');
    expect(() => redisOptions({ url: 'http://h:1' }, () => undefined)).toThrow(/redis:\/\/ or rediss:\/\//);
    expect(() => redisOptions({ url: 'not a url' }, () => undefined)).toThrow(SamstarError);
    expect(() => redisOptions({ url: 'redis://h/x' }, () => undefined)).toThrow(/database "x"/);
  });

  it('reconnects with growing delays, then gives up once with a clear error', () => {
    vi.useFakeTimers();
    try {
      const errors: SamstarError[] = [];
      const o = redisOptions({ url: 'redis://:pw@h:1', reconnectLimitMs: 1000 }, (e) => errors.push(e));
      const retry = o.retryStrategy as (times: number) => number | null;
      expect([1, 2, 3, 6, 9].map((t) => retry(t))).toEqual([100, 200, 400, 2000, 2000]);
      vi.advanceTimersByTime(1500);
      expect(retry(10)).toBeNull();
      expect(retry(11)).toBeNull();
      expect(errors).toHaveLength(1);
      expect(errors[0].message).toMatch(/lost the connection to Redis at redis:\/\/:\*\*\*@h:1 and could not reconnect within 1\.0 s/);
    } finally {
      vi.useRealTimers();
    }
  });

  it('frames and label images survive the trip through bytes exactly', () => {
    const data = new Uint16Array(5 * 4 * 3).map((_, i) => (i * 977) % 65535);
    for (const channels of [1, 3]) {
      const frame = frameFromPixels({ source: `f${channels}`, width: 5, height: 4, channels, data: data.subarray(0, 5 * 4 * channels) });
      const back = decodeFrame(encodeFrame(frame), 'f');
      expect(back).toEqual(frame);
      expect(back.grey === back.pixels).toBe(frame.grey === frame.pixels);
    }
    const truth = { width: 3, height: 2, data: Uint32Array.from([0, 1, 1, 2, 0, 70000]) };
    expect(decodeTruth(encodeTruth(truth), 't')).toEqual(truth);
    expect(truthKey(truth)).not.toBe(truthKey({ ...truth, data: Uint32Array.from([0, 1, 1, 2, 0, 7]) }));
    expect(() => decodeFrame(encodeFrame(frameFromPixels({ source: 'x', width: 4, height: 4, channels: 1, data: new Uint8Array(16) })).subarray(0, 30), 'f')).toThrow(/truncated|shorter/);
  });

  it('resolves job paths only under the data root', async () => {
    const root = join(dir, 'root');
    mkdirSync(join(root, 'sub'), { recursive: true });
    writeFileSync(join(root, 'sub', 'a.png'), 'x');
    writeFileSync(join(dir, 'outside.png'), 'x');
    symlinkSync(join(dir, 'outside.png'), join(root, 'link.png'));
    expect(await pathInside(root, 'sub/a.png')).toBe(join(root, 'sub', 'a.png'));
    await expect(pathInside(root, join(root, 'sub', 'a.png'))).rejects.toThrow(/absolute/);
    await expect(pathInside(root, 'sub/../../outside.png')).rejects.toThrow(/outside the data root/);
    await expect(pathInside(root, 'link.png')).rejects.toThrow(/symbolic link/);
    await expect(pathInside(root, 'sub/missing.png')).rejects.toThrow(/does not exist/);
    expect(relativeToRoot(root, join(root, 'sub', 'a.png'), 'frame')).toBe('sub/a.png');
    expect(() => relativeToRoot(root, join(dir, 'outside.png'), 'frame')).toThrow(/outside the data root/);
  });

  it('sends the reward in its config-file form, which parses back to the same config', async () => {
    for (const name of ['nuclei', 'supervised']) {
      const config = await loadRewardConfig(join(packageRoot(), 'configs', 'rewards', `${name}.yaml`));
      const { source: _s, ...again } = parseRewardConfig(rewardWire(config), 'job reward');
      const { source: _t, ...original } = config;
      expect(again).toEqual(original);
    }
  });

  it('sends segmenters by name and bundled model; refuses what workers cannot rebuild', async () => {
    const sam = await SamSegmenter.load();
    try {
      expect(segmenterWire(sam, dir)).toEqual({ name: 'sam', model: { bundled: 'reference' } });
    } finally {
      await sam.dispose();
    }
    expect(segmenterWire(new BlobSegmenter(), dir)).toEqual({ name: 'blobs' });
    const custom = { name: 'mine', knobs: new BlobSegmenter().knobs, segment: async () => ({}), dispose: async () => undefined } as unknown as Segmenter;
    expect(() => segmenterWire(custom, dir)).toThrow(/cannot run on remote workers/);
  });

  it('validates jobs field by field and results against their schema', () => {
    const job: EvaluateJob = {
      v: 1,
      type: 'evaluate',
      id: 'f',
      hash: 'ab'.repeat(32),
      frame: { bytes: 'ab'.repeat(32) },
      knobs: { points_per_side: 8 },
      segmenter: { name: 'sam' },
      reward: { terms: { coverage: {} }, total: 'coverage' },
    };
    expect(parseJob(job)).toEqual(job);
    expect(() => parseJob({ ...job, v: 2 })).toThrow(/malformed job[\s\S]*v/);
    expect(() => parseJob({ ...job, hash: '../../etc' })).toThrow(/hash/);
    expect(() => parseJob({ ...job, frame: { path: 'a', bytes: 'ab'.repeat(32) } })).toThrow(/frame/);
    expect(() => parseJob({ ...job, segmenter: { name: 'sam', module: 'evil.js' } })).toThrow(/module/);
    expect(() => parseJob(null)).toThrow(SamstarError);
    expect(resultSchema.safeParse({ worker: 'w', cached: false, evaluation: { frame: 'f', total: 1, terms: {}, count: 0, ms: 1, segmentMs: 1, rewardMs: 0 } }).success).toBe(true);
    expect(resultSchema.safeParse({ worker: 'w', cached: false, evaluation: { frame: 'f', total: 'x' } }).success).toBe(false);
  });

  it('reads a task\'s execution block (data_root relative to the config) and refuses a non-Redis URL', async () => {
    const base = { data: { frames: 'f.png' }, segmenter: { tune: ['pred_iou_thresh'] }, reward: join(packageRoot(), 'configs', 'rewards', 'nuclei.yaml'), agent: 'cmaes', budget: 4 };
    writeFileSync(join(dir, 'f.png'), 'x');
    writeFileSync(join(dir, 'ok.yaml'), JSON.stringify({ ...base, execution: { redis: 'redis://:pw@q:6379', send_frames: 'path', data_root: 'shared' } }));
    expect((await loadTaskConfig(join(dir, 'ok.yaml'))).execution).toEqual({ redis: 'redis://:pw@q:6379', sendFrames: 'path', dataRoot: join(dir, 'shared') });
    writeFileSync(join(dir, 'bad.yaml'), JSON.stringify({ ...base, execution: { redis: 'http://q:6379' } }));
    await expect(loadTaskConfig(join(dir, 'bad.yaml'))).rejects.toThrow(/execution\.redis/);
  });
});
