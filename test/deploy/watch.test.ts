import { spawn } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileReward } from '../../rewards/index.js';
import { writeSynthDataset } from '../../src/data/synth-files.js';
import { formatWatchLine, watchFolder, type WatchFailure, type WatchFrameResult } from '../../src/deploy/watch.js';
import { loadFrame } from '../../src/image/load.js';
import { OnlineAdapter } from '../../src/policy/adapt.js';
import { Policy, writeStaticPolicy } from '../../src/policy/policy.js';
import { BlobSegmenter } from '../../src/segmenters/blobs/segmenter.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const REWARD = { measure: { foreground: 'bright' }, terms: { shape: { type: 'shape', solidity: { min: 0.9 } }, coverage: { type: 'coverage' } }, total: '0.4*shape + 0.6*coverage' };

/**
 * The blob segmenter (no model) keeps these fast; the watcher does not care
 * which segmenter runs.
 */
describe('samstar watch', () => {
  let dir: string;
  let images: string[];
  let policyDir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'samstar-watch-'));
    images = (await writeSynthDataset(join(dir, 'data'), { frames: 4, width: 96, height: 96, count: 6, diameter: { median: 10 } }, 3)).images;
    policyDir = join(dir, 'policy');
    const segmenter = new BlobSegmenter();
    await writeStaticPolicy(policyDir, {
      segmenter: 'blobs',
      knobSpace: segmenter.knobs.subset(['blob_threshold', 'radius_scale']).toJSON(),
      fixed: { blob_sigma_max: 6 },
      knobs: { blob_threshold: 3, radius_scale: 1.1 },
      provenance: { agent: { name: 'cmaes', options: {} }, seed: 0, created: new Date().toISOString(), reward: REWARD },
    });
  });

  it('segments files created while it runs, in arrival order; waits for slow writers; skips a corrupt file; stops on abort', async () => {
    const watched = join(dir, 'in');
    const out = join(dir, 'out');
    mkdirSync(watched);
    copyFileSync(images[3], join(watched, 'old.png'));
    const segmenter = new BlobSegmenter();
    const policy = await Policy.load(policyDir, { segmenter });
    const reward = compileReward(REWARD);
    const adapter = new OnlineAdapter({ segmenter, reward, space: policy.space, budget: 5, seed: 1 });
    const frames: WatchFrameResult[] = [];
    const failures: WatchFailure[] = [];
    let ready = false;
    const controller = new AbortController();
    const running = watchFolder({
      dir: watched,
      out,
      segmenter,
      policy,
      reward,
      adapter,
      signal: controller.signal,
      stableMs: 600,
      scanMs: 100,
      onReady: () => (ready = true),
      onFrame: (r) => frames.push(r),
      onFailure: (f) => failures.push(f),
    });
    await until('the watcher', () => ready);

    copyFileSync(images[0], join(watched, 'a.png'));
    await until('a.png', () => frames.length === 1);
    writeFileSync(join(watched, 'bad.png'), 'this is not a PNG');
    await until('the failure', () => failures.length === 1);
    // A slow writer: the PNG arrives in chunks with pauses (60 ms) well below stableMs; it must be read once, complete.
    const bytes = readFileSync(images[1]);
    const slow = join(watched, 'slow.png');
    const chunk = Math.ceil(bytes.length / 4);
    for (let i = 0; i < 4; i++) {
      appendFileSync(slow, bytes.subarray(i * chunk, (i + 1) * chunk));
      await sleep(60);
    }
    // A writer that renames its temporary file into place.
    writeFileSync(join(watched, 'c.png.part'), readFileSync(images[2]));
    renameSync(join(watched, 'c.png.part'), join(watched, 'c.png'));
    await until('slow.png and c.png', () => frames.length === 3);
    await sleep(400); // nothing else may come
    controller.abort();
    const summary = await running;

    expect(frames.map((f) => f.file.split('/').pop())).toEqual(['a.png', 'slow.png', 'c.png']);
    expect(frames.map((f) => f.index)).toEqual([1, 3, 4]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ index: 2, file: join(watched, 'bad.png') });
    expect(failures[0].error).toMatch(/bad\.png.*not an image samstar can read/);
    expect(summary).toMatchObject({ frames: 3, failed: 1, adapt: true, policy: { id: policy.id, kind: 'static' } });
    expect(existsSync(join(out, 'old.json'))).toBe(false);
    expect(existsSync(join(out, 'watch-summary.json'))).toBe(true);
    for (const f of frames) {
      expect(f.adapt!.evaluations).toBe(5);
      expect(f.reward!.total).toBeGreaterThanOrEqual(f.adapt!.baseTotal);
      const record = JSON.parse(readFileSync(f.outputs.json, 'utf8')) as { knobs: Record<string, unknown>; policy: { id: string }; count: number; reward: { total: number } };
      expect(record.policy.id).toBe(policy.id);
      expect(record.count).toBe(f.count);
      expect(record.knobs.blob_sigma_max).toBe(6);
      expect(record.reward.total).toBe(f.reward!.total);
      expect(formatWatchLine(f)).toMatch(/count \d+ {2}decide [\d.]+ ms {2}adapt \d+ ms \(5 evals, [\d.]+ → [\d.]+\) {2}latency \d+ ms {2}reward [\d.]+ \(shape [\d.]+, coverage [\d.]+\)/);
    }
    // The slow file was complete when read: the same segmentation as the file read at rest.
    const slowRecord = JSON.parse(readFileSync(frames[1].outputs.json, 'utf8')) as { knobs: Record<string, string | number>; frame_sha256: string };
    const atRest = await loadFrame(images[1]);
    expect(slowRecord.frame_sha256).toBe(atRest.hash);
    expect(frames[1].count).toBe((await segmenter.segment(atRest, slowRecord.knobs)).instances.length);
    await expect(watchFolder({ dir: watched, out: watched, segmenter, signal: controller.signal })).rejects.toThrow(/must not be the watched folder/);
  });

  it('samstar watch: a live line per frame, a summary and exit code 0 on Ctrl-C', async () => {
    const watched = join(dir, 'cli-in');
    const out = join(dir, 'cli-out');
    mkdirSync(watched);
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), 'watch', watched, '--out', out, '--policy', policyDir, '--stable-ms', '150', '--scan-ms', '100'], {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await until('the watcher to start', () => stderr.includes('samstar: watching'), 30_000);
    copyFileSync(images[0], join(watched, 'frame-a.png'));
    await until('the live line', () => stdout.includes('frame-a.png'), 30_000);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stdout).toMatch(/\[ {3}1\] frame-a\.png {2}count \d+ {2}decide [\d.]+ ms {2}latency \d+ ms {2}reward [\d.]+ \(shape/);
    expect(stdout).toMatch(/watched .* 1 frame\(s\) segmented, 0 failed \(policy policy-[0-9a-f]+, static\)/);
    expect(stdout).toMatch(/latency: mean \d+ ms/);
    expect(existsSync(join(out, 'frame-a.json'))).toBe(true);
  });
});
