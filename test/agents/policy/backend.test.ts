import { describe, expect, it } from 'vitest';
import { loadTf } from '../../../agents/policy/backend.js';
import { PpoAgent } from '../../../agents/policy/ppo.js';
import { ReinforceAgent } from '../../../agents/policy/reinforce.js';
import { makeToy, trainOnToy } from './toy.js';

describe('tfjs backend', () => {
  it('picks a backend once (wasm expected here; tensorflow when tfjs-node is installed) and reports it', async () => {
    const a = await loadTf();
    const b = await loadTf();
    expect(b).toBe(a);
    expect(['tensorflow', 'wasm', 'cpu']).toContain(a.backend);
    expect(a.tf.getBackend()).toBe(a.backend);
    console.log(`policy training backend: ${a.backend}${a.notes.length ? ` (${a.notes.join('; ')})` : ''}`);
  });

  it('learn() leaves no tensors behind', async () => {
    const { tf } = await loadTf();
    const toy = makeToy();
    const ppo = new PpoAgent(toy.k, toy.d, 1, { rolloutSize: 32, epochs: 2 });
    const reinforce = new ReinforceAgent(toy.k, toy.d, 1, { rolloutSize: 32, baseline: 'none' });
    await trainOnToy(ppo, toy, 32);
    await trainOnToy(reinforce, toy, 32);
    const before = tf.memory().numTensors;
    await trainOnToy(ppo, toy, 64);
    await trainOnToy(reinforce, toy, 64);
    expect(tf.memory().numTensors).toBe(before);
  });
});
