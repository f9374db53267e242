/**
 * Saving an agent mid-training and loading it continues the run exactly:
 * Adam's moments and step, the sampling and shuffling streams, the counters
 * and REINFORCE's running mean come back with the weights.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GaussianPolicy } from '../../../agents/policy/gaussian-policy.js';
import { PpoAgent, type PpoOptions } from '../../../agents/policy/ppo.js';
import { ReinforceAgent } from '../../../agents/policy/reinforce.js';
import { type LearnStats, type PolicyAgent, toTransition, type Transition } from '../../../agents/policy/types.js';
import { readWeights, writeWeights } from '../../../agents/policy/weights.js';
import { Rng } from '../../../src/util/rng.js';
import { makeToy } from './toy.js';

const toy = makeToy();
const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'samstar-resume-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** `updates` learn() calls on the toy bandit; contexts come from `env`, the environment's stream, which the caller carries across a save. */
async function train(agent: PolicyAgent, env: Rng, updates: number): Promise<LearnStats[]> {
  const out: LearnStats[] = [];
  for (let u = 0; u < updates; u++) {
    const batch: Transition[] = [];
    for (let i = 0; i < agent.rolloutSize; i++) {
      const { s, target } = toy.observe(env);
      const acted = agent.act(s);
      batch.push(toTransition(s, acted, toy.reward(acted.action, target), true));
    }
    out.push(await agent.learn(batch));
  }
  return out;
}

/** The figures of learn(), without its wall-clock time. */
const figures = (stats: readonly LearnStats[]) => stats.map(({ milliseconds: _, ...rest }) => rest);

async function files(dir: string): Promise<{ json: string; bin: Buffer }> {
  return { json: await readFile(join(dir, 'weights.json'), 'utf8'), bin: await readFile(join(dir, 'weights.bin')) };
}

// rolloutSize 15 with 3 action dimensions: 45 normal draws per batch, so after an odd number of
// updates the sampling stream holds a cached Box–Muller value, which the save must keep too.
const PPO: PpoOptions = { rolloutSize: 15, minibatchSize: 4, epochs: 2, hidden: [8, 8], logStdInit: -0.5 };
const cases: [string, () => PpoAgent | ReinforceAgent, (dir: string) => Promise<PolicyAgent>][] = [
  ['PPO', () => new PpoAgent(toy.k, toy.d, 5, PPO), (dir) => PpoAgent.load(dir)],
  ['REINFORCE, value baseline, shuffled minibatches', () => new ReinforceAgent(toy.k, toy.d, 6, { rolloutSize: 15, minibatchSize: 8, epochs: 2, hidden: [8, 8] }), (dir) => ReinforceAgent.load(dir)],
  ['REINFORCE, running-mean baseline', () => new ReinforceAgent(toy.k, toy.d, 7, { rolloutSize: 15, hidden: [8], baseline: 'mean', normalizeAdvantage: false }), (dir) => ReinforceAgent.load(dir)],
];

describe('save → load continues training exactly', () => {
  it.each(cases)('%s: train 3 updates → save → load → train 2 is train 5, bit for bit', async (_, make, load) => {
    const straight = make();
    const all = await train(straight, new Rng(31), 5);

    const first = make();
    const env = new Rng(31);
    await train(first, env, 3);
    const dir = await tempDir();
    await first.save(dir);
    const saved = JSON.parse((await files(dir)).json);
    expect(saved.meta.agent.state.optimizer).toEqual({ kind: 'adam', step: 3 * all[0].gradientSteps });
    expect(typeof saved.meta.agent.state.rng.act.spareNormal).toBe('number');
    const resumed = await load(dir);
    const rest = await train(resumed, env, 2);

    expect(figures(rest)).toEqual(figures(all.slice(3)));
    // All the state, not only what the figures show: both agents now save the same bytes.
    const [a, b] = [await tempDir(), await tempDir()];
    await straight.save(a);
    await resumed.save(b);
    expect(await files(b)).toEqual(await files(a));
  });

  it('the saved state is what makes it exact: without it (fresh Adam), or with fresh streams from a seed, the run differs', async () => {
    const agent = new PpoAgent(toy.k, toy.d, 5, PPO);
    const env = new Rng(31);
    await train(agent, env, 3);
    const dir = await tempDir();
    await agent.save(dir);
    const next = (a: PolicyAgent) => train(a, new Rng(8), 1).then(figures);
    const exact = await next(await PpoAgent.load(dir));
    const reseeded = await PpoAgent.load(dir, { seed: 5 });
    expect(await next(reseeded)).not.toEqual(exact);
    // A seed restarts the streams only: Adam's moments are still the saved ones.
    const again = await tempDir();
    await (await PpoAgent.load(dir, { seed: 5 })).save(again);
    const moments = async (d: string) => [...(await readWeights(d)).tensors.values()].filter((t) => t.name.startsWith('adam/'));
    expect(await moments(again)).toEqual(await moments(dir));
    const old = await tempDir();
    await agent.policy.save(old, { name: 'ppo', seed: 5, options: agent.options(), state: {}, updates: agent.updates, samples: agent.samples });
    expect(await next(await PpoAgent.load(old))).not.toEqual(exact);
  });
});

describe('artefacts with and without training state', () => {
  it('an artefact saved without it (as before) still loads: fresh Adam and streams from the seed, counters kept', async () => {
    const agent = new ReinforceAgent(toy.k, toy.d, 6, { rolloutSize: 15, hidden: [8], baseline: 'mean' });
    await train(agent, new Rng(31), 2);
    const dir = await tempDir();
    // What save() wrote before training state was saved: the policy and the agent record, no adam/* tensors.
    await agent.policy.save(dir, { name: 'reinforce', seed: 6, options: agent.options(), state: { runningMean: agent.runningMean }, updates: agent.updates, samples: agent.samples });
    const loaded = await ReinforceAgent.load(dir);
    expect(loaded.updates).toBe(2);
    expect(loaded.runningMean).toBe(agent.runningMean);
    const fresh = new ReinforceAgent(toy.k, toy.d, 6, { rolloutSize: 15, hidden: [8], baseline: 'mean' }, await GaussianPolicy.load(dir));
    fresh.runningMean = agent.runningMean;
    expect(figures(await train(loaded, new Rng(8), 2))).toEqual(figures(await train(fresh, new Rng(8), 2)));
  });

  it('deployment (GaussianPolicy.load) reads an artefact with training state and ignores it', async () => {
    const agent = new PpoAgent(toy.k, toy.d, 5, PPO);
    await train(agent, new Rng(31), 1);
    const dir = await tempDir();
    await agent.save(dir);
    const { manifest } = await readWeights(dir);
    const adam = manifest.tensors.filter((t) => t.name.startsWith('adam/'));
    expect(adam.map((t) => t.name)).toContain('adam/v/log_std');
    expect(adam.every((t) => t.dtype === 'float64')).toBe(true);
    expect(manifest.tensors.filter((t) => !t.name.startsWith('adam/')).every((t) => t.dtype === undefined)).toBe(true);
    const policy = await GaussianPolicy.load(dir);
    const rng = new Rng(3);
    for (let i = 0; i < 10; i++) {
      const { s } = toy.observe(rng);
      expect(policy.act(s, { deterministic: true })).toEqual(agent.act(s, { deterministic: true }));
    }
  });

  it('says which field or tensor is wrong in a damaged training state', async () => {
    const agent = new PpoAgent(toy.k, toy.d, 5, PPO);
    await train(agent, new Rng(31), 1);
    const dir = await tempDir();
    await agent.save(dir);
    const { manifest, tensors } = await readWeights<{ agent: { state: Record<string, unknown> } }>(dir);
    const rewrite = async (keep: (name: string) => boolean, state: Record<string, unknown>) => {
      const bad = await tempDir();
      await writeWeights(bad, [...tensors.values()].filter((t) => keep(t.name)), { ...manifest.meta, agent: { ...manifest.meta.agent, state } });
      return bad;
    };
    const state = manifest.meta.agent.state;
    await expect(PpoAgent.load(await rewrite((n) => n !== 'adam/m/pi/w0', state))).rejects.toMatchObject({
      code: 'MODEL_INVALID',
      message: expect.stringMatching(/weights\.json: agent\.state\.optimizer is set but tensor "adam\/m\/pi\/w0" is missing/),
    });
    await expect(PpoAgent.load(await rewrite(() => true, { ...state, optimizer: { kind: 'adam', step: -1 } }))).rejects.toThrow(/agent\.state\.optimizer: step must be a non-negative integer/);
    await expect(PpoAgent.load(await rewrite(() => true, { ...state, optimizer: { kind: 'sgd' } }))).rejects.toThrow(/agent\.state\.optimizer must be \{ kind: "adam", step \}/);
    const rng = state.rng as { act: unknown; learn: unknown };
    await expect(PpoAgent.load(await rewrite(() => true, { ...state, rng: { ...rng, act: { s: [1, 2, 3] } } }))).rejects.toMatchObject({
      code: 'MODEL_INVALID',
      message: expect.stringMatching(/agent\.state\.rng\.act: s must be 4 unsigned 32-bit integers/),
    });
    // A seed asks for fresh streams: the saved ones are not read at all.
    await expect(PpoAgent.load(await rewrite(() => true, { ...state, rng: { ...rng, act: { s: [1, 2, 3] } } }), { seed: 9 })).resolves.toBeInstanceOf(PpoAgent);
  });
});

describe('Rng state', () => {
  it('getState/setState continue a stream exactly, pending Box–Muller value included, through JSON', () => {
    const a = new Rng(42);
    a.normal(); // leaves the second value of the pair cached
    const state = JSON.parse(JSON.stringify(a.getState()));
    expect(typeof state.spareNormal).toBe('number');
    const b = new Rng(1).setState(state);
    const draw = (r: Rng) => [r.normal(), r.normal(), r.next(), r.nextUint32(), r.shuffle([1, 2, 3, 4, 5])];
    expect(draw(b)).toEqual(draw(a));
    expect(() => new Rng(1).setState({ s: [1, 2, 3, 2 ** 32] }, 'here')).toThrow(/here: s must be 4 unsigned 32-bit integers/);
    expect(() => new Rng(1).setState({ s: [1, 2, 3, 4], spareNormal: NaN })).toThrow(/spareNormal must be a finite number/);
  });
});
