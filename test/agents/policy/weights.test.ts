import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GaussianPolicy } from '../../../agents/policy/gaussian-policy.js';
import { loadPolicyAgent } from '../../../agents/policy/index.js';
import { PpoAgent } from '../../../agents/policy/ppo.js';
import { ReinforceAgent } from '../../../agents/policy/reinforce.js';
import { readWeights, writeWeights } from '../../../agents/policy/weights.js';
import { Rng } from '../../../src/util/rng.js';
import { makeToy, trainOnToy } from './toy.js';

const toy = makeToy();
const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'samstar-policy-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

function probes(n: number): number[][] {
  const rng = new Rng(77);
  return Array.from({ length: n }, () => toy.observe(rng).s);
}

describe('policy weights: save → load', () => {
  it('a loaded PPO agent gives identical deterministic actions, statistics and options', async () => {
    const agent = new PpoAgent(toy.k, toy.d, 5, { rolloutSize: 64, logStdInit: -0.5, maxGradNorm: Infinity, targetKl: 0.5 });
    await trainOnToy(agent, toy, 128);
    const dir = await tempDir();
    await agent.save(dir);
    expect((await readdir(dir)).sort()).toEqual(['weights.bin', 'weights.json']);
    const loaded = await PpoAgent.load(dir);
    expect(loaded.observationSize).toBe(toy.k);
    expect(loaded.actionSize).toBe(toy.d);
    expect(loaded.rolloutSize).toBe(64);
    expect(loaded.options()).toEqual(agent.options());
    expect(loaded.updates).toBe(2);
    expect(loaded.policy.normalizer.toJSON()).toEqual(agent.policy.normalizer.toJSON());
    for (const s of probes(50)) expect(loaded.act(s, { deterministic: true })).toEqual(agent.act(s, { deterministic: true }));
    // Deployment without an agent (and without tfjs).
    const policy = await GaussianPolicy.load(dir);
    for (const s of probes(10)) expect(policy.act(s, { deterministic: true })).toEqual(agent.act(s, { deterministic: true }));
    // The loaded agent keeps learning.
    const stats = await trainOnToy(loaded, toy, 64);
    expect(stats.stats[0].samples).toBe(64);
  });

  it('loadPolicyAgent restores a REINFORCE agent with its running-mean baseline; the wrong class says which to use', async () => {
    const agent = new ReinforceAgent(toy.k, toy.d, 6, { rolloutSize: 32, baseline: 'mean' });
    await trainOnToy(agent, toy, 64);
    const dir = await tempDir();
    await agent.save(dir);
    const loaded = await loadPolicyAgent(dir);
    expect(loaded).toBeInstanceOf(ReinforceAgent);
    expect((loaded as ReinforceAgent).runningMean).toBe(agent.runningMean);
    expect((loaded as ReinforceAgent).baseline).toBe('mean');
    for (const s of probes(20)) expect(loaded.act(s, { deterministic: true }).action).toEqual(agent.act(s, { deterministic: true }).action);
    await expect(PpoAgent.load(dir)).rejects.toThrow(/saved by the reinforce agent, not ppo/);
  });

  it('a frozen normaliser stays frozen after load; saving twice overwrites cleanly', async () => {
    const agent = new PpoAgent(toy.k, toy.d, 7);
    agent.fitNormalizer(probes(100));
    agent.freezeNormalizer();
    const dir = await tempDir();
    await agent.save(dir);
    await agent.save(dir);
    expect((await readdir(dir)).sort()).toEqual(['weights.bin', 'weights.json']);
    const loaded = await PpoAgent.load(dir);
    expect(loaded.policy.normalizer.frozen).toBe(true);
    loaded.fitNormalizer(probes(5));
    expect(loaded.policy.normalizer.count).toBe(100);
  });

  it('says what is wrong with a missing, torn or foreign folder', async () => {
    const dir = await tempDir();
    await expect(PpoAgent.load(join(dir, 'nope'))).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    const agent = new PpoAgent(toy.k, toy.d, 8);
    await agent.save(dir);
    const bin = await readFile(join(dir, 'weights.bin'));
    bin[10] ^= 0xff;
    await writeFile(join(dir, 'weights.bin'), bin);
    await expect(PpoAgent.load(dir)).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringMatching(/does not match its checksum/) });
    await writeFile(join(dir, 'weights.json'), '{"format": "something-else"}');
    await expect(GaussianPolicy.load(dir)).rejects.toThrow(/format is "something-else"/);
  });

  it('writeWeights/readWeights round-trip float32 values bit for bit, little-endian', async () => {
    const dir = await tempDir();
    const data = Float32Array.from([1.5, -0, NaN, 3.4028234663852886e38, 1e-45, Math.PI]);
    await writeWeights(dir, [{ name: 'x', shape: [2, 3], data }], { note: 'test' });
    const { manifest, tensors } = await readWeights<{ note: string }>(dir);
    expect(manifest.meta.note).toBe('test');
    expect(new Uint8Array(tensors.get('x')!.data.buffer)).toEqual(new Uint8Array(data.buffer));
    expect(tensors.get('x')!.shape).toEqual([2, 3]);
    const raw = await readFile(join(dir, 'weights.bin'));
    expect(raw.readFloatLE(0)).toBe(1.5);
  });

  it('float64 tensors (training state) round-trip bit for bit next to float32 ones; float32-only files carry no dtype field', async () => {
    const dir = await tempDir();
    const f32 = Float32Array.from([1.5, -2]);
    const f64 = Float64Array.from([Math.PI, 1 / 3, -0, 5e-324, 1.7976931348623157e308]);
    await writeWeights(dir, [{ name: 'a', shape: [2], data: f32 }, { name: 'b', shape: [5], data: f64 }, { name: 'c', shape: [1], data: Float32Array.of(7) }], {});
    const { manifest, tensors } = await readWeights(dir);
    expect(manifest.tensors.map((t) => [t.name, t.offset, t.dtype])).toEqual([['a', 0, undefined], ['b', 8, 'float64'], ['c', 48, undefined]]);
    expect(manifest.byteLength).toBe(52);
    expect(tensors.get('b')!.data).toBeInstanceOf(Float64Array);
    expect(new Uint8Array(tensors.get('b')!.data.buffer)).toEqual(new Uint8Array(f64.buffer));
    expect(tensors.get('c')!.data).toEqual(Float32Array.of(7));
    await writeWeights(dir, [{ name: 'a', shape: [2], data: f32 }], {});
    expect(await readFile(join(dir, 'weights.json'), 'utf8')).not.toMatch(/dtype": "float64/);
  });
});
