// Execution providers: --device / segmenter.device reach onnxruntime, and a device this
// onnxruntime-node cannot use is refused at load with an error naming the device, what is available and how
// to install it. Only the CPU path can run here (no GPU; onnxruntime-node installed without its CUDA binaries):
// the GPU cases assert the refusal, and skip, saying so, on a machine where the provider does start.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createSegmenter, segmenterSpecOf } from '../../envs/segmenter-spec.js';
import { runtimeChoice, withRuntime } from '../../src/cli/runtime-options.js';
import { parseTaskConfig } from '../../src/config/task.js';
import { DEVICES, parseDevice } from '../../src/segmenters/sam/devices.js';
import { loadModel } from '../../src/segmenters/sam/onnx-model.js';
import { referenceModelFiles, SamSegmenter } from '../../src/segmenters/sam/segmenter.js';
import { SamstarError } from '../../src/util/errors.js';
import { runCli } from '../cli/run-cli.js';

const listed = new Set(ort.listSupportedBackends().map((b) => b.name));
/** A device whose provider this build does not even list (CoreML off macOS, DirectML off Windows). */
const unlisted = DEVICES.find((d) => d !== 'cpu' && !listed.has(d));
/** onnxruntime-node's CUDA provider library, present only when its CUDA binaries were downloaded at install. */
const ortDir = dirname(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')));
const cudaInstalled = process.platform !== 'linux' || process.arch !== 'x64' || existsSync(join(ortDir, 'bin', 'napi-v6', 'linux', 'x64', 'libonnxruntime_providers_cuda.so'));

async function refusal(promise: Promise<unknown>): Promise<SamstarError> {
  const error = await promise.then(
    () => new Error('loaded'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SamstarError);
  return error as SamstarError;
}

describe('execution providers', () => {
  it('cpu loads and the loaded model says so; the worker spec carries device and threads', async () => {
    const segmenter = await SamSegmenter.load({ files: referenceModelFiles(), device: 'cpu', intraOpThreads: 2 });
    try {
      expect(segmenter.model.device).toBe('cpu');
      expect(segmenter.model.intraOpThreads).toBe(2);
      const spec = segmenterSpecOf(segmenter);
      expect(spec).toMatchObject({ kind: 'segmenter', name: 'sam', options: { device: 'cpu', intraOpThreads: 2 } });
      const rebuilt = (await createSegmenter(spec!)) as SamSegmenter;
      expect(rebuilt.model.intraOpThreads).toBe(2);
      await rebuilt.dispose();
    } finally {
      await segmenter.dispose();
    }
  });

  it.skipIf(!unlisted)(`a provider this build lacks is refused before any session, naming it and what is available`, async () => {
    const error = await refusal(loadModel(referenceModelFiles(), { device: unlisted! }));
    expect(error.code).toBe('DEVICE_UNAVAILABLE');
    expect(error.message).toContain(`device "${unlisted}"`);
    expect(error.message).toMatch(/lists: cpu/);
    expect(error.hint).toMatch(/--device cpu/);
  });

  it.skipIf(cudaInstalled)('cuda without its downloaded binaries is refused with how to install them', async () => {
    const error = await refusal(loadModel(referenceModelFiles(), { device: 'cuda' }));
    expect(error.code).toBe('DEVICE_UNAVAILABLE');
    expect(error.message).toContain('device "cuda"');
    expect(error.message).toContain('encoder');
    expect(error.hint).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node');
  });

  it('unknown device names and bad thread counts are refused with the known names', () => {
    expect(() => parseDevice('gpu')).toThrow(/unknown device "gpu" \(known: cpu, cuda, tensorrt, coreml, dml\)/);
    expect(() => runtimeChoice({ threads: 0 })).toThrow(/--threads must be a whole number from 1 to 256 \(got 0\)/);
    expect(runtimeChoice({})).toEqual({});
  });

  it('segmenter.device in a task config is validated, and --device / --threads override it', () => {
    const raw = (device: unknown) => ({ data: { frames: 'f/*.png' }, segmenter: { device, threads: 2, tune: ['pred_iou_thresh'] }, reward: 'r.yaml', agent: 'random', budget: 3 });
    const config = parseTaskConfig(raw('cuda'), { source: 'task.yaml', baseDir: tmpdir() });
    expect(config.segmenter.device).toBe('cuda');
    expect(() => parseTaskConfig(raw('gpu'), { source: 'task.yaml', baseDir: tmpdir() })).toThrow(/segmenter\.device/);
    expect(withRuntime(config, { device: 'cpu', threads: 4 }).segmenter).toMatchObject({ device: 'cpu', threads: 4 });
    expect(withRuntime(config, {}).segmenter).toMatchObject({ device: 'cuda', threads: 2 });
  });

  it.skipIf(!unlisted)('the CLI exits 2 with the device error (not 70)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'samstar-device-'));
    const image = join(dir, 'a.png');
    // A 1×1 PNG: the model is refused before any image is read.
    writeFileSync(image, Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108000000003a7e9b550000000a4944415478da63600000000200015e2c2a9d0000000049454e44ae426082', 'hex'));
    const result = runCli(['segment', image, '--out', join(dir, 'out'), '--device', unlisted!]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`device "${unlisted}"`);
    expect(result.stderr).toContain('hint:');
  });
});
