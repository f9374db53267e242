import { describe, expect, it } from 'vitest';
import { checkEnv, checkEnvOrThrow } from '../../envs/check-env.js';
import { Box, Discrete } from '../../envs/spaces.js';
import type { Env, ResetResult, Space, StepResult } from '../../envs/types.js';
import { isSamstarError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

type Flaw =
  | 'none'
  | 'obs-shape'
  | 'obs-out-of-space'
  | 'nan-reward'
  | 'inf-reward'
  | 'unseeded'
  | 'wrong-types'
  | 'bare-reset'
  | 'info-not-object'
  | 'silent-out-of-range'
  | 'clips-with-flag'
  | 'step-throws';

/**
 * A toy env: reset draws a target in [−1, 1]² from the seeded Rng, the
 * observation is (target, 0), one step per episode, reward −‖a − target‖².
 * `flaw` breaks one promise of the contract.
 */
class ToyEnv implements Env<ArrayLike<number>, ArrayLike<number>> {
  readonly observationSpace = new Box([-1, -1, 0], [1, 1, 0]);
  readonly actionSpace = new Box([-1, -1], [1, 1]);
  private rng = new Rng(0);
  private target = [0, 0];

  constructor(private readonly flaw: Flaw = 'none') {}

  async reset(options: { seed?: number } = {}): Promise<ResetResult<ArrayLike<number>>> {
    if (options.seed !== undefined) this.rng = new Rng(options.seed);
    const draw = (): number => (this.flaw === 'unseeded' ? 2 * Math.random() - 1 : this.rng.uniform(-1, 1));
    this.target = [draw(), draw()];
    const observation = this.observation();
    if (this.flaw === 'bare-reset') return observation as unknown as ResetResult<ArrayLike<number>>;
    return { observation, info: {} };
  }

  private observation(): number[] {
    if (this.flaw === 'obs-shape') return [...this.target];
    if (this.flaw === 'obs-out-of-space') return [this.target[0] * 3, this.target[1], 0];
    return [...this.target, 0];
  }

  async step(action: ArrayLike<number>): Promise<StepResult<ArrayLike<number>>> {
    if (this.flaw === 'step-throws') throw new Error('boom');
    let a = Array.from(action);
    let clipped = false;
    if (!this.actionSpace.contains(action)) {
      if (this.flaw === 'clips-with-flag') {
        a = Array.from(this.actionSpace.clip(action));
        clipped = true;
      } else if (this.flaw !== 'silent-out-of-range') {
        throw new Error('action outside the action space');
      }
    }
    let reward = -((a[0] - this.target[0]) ** 2 + (a[1] - this.target[1]) ** 2);
    if (this.flaw === 'nan-reward') reward = NaN;
    if (this.flaw === 'inf-reward') reward = -Infinity;
    const result = { observation: this.observation(), reward, terminated: true, truncated: false, info: clipped ? { actionClipped: true } : {} };
    if (this.flaw === 'wrong-types') return { ...result, reward: String(reward), terminated: 1 } as unknown as StepResult<ArrayLike<number>>;
    if (this.flaw === 'info-not-object') return { ...result, info: 'none' } as unknown as StepResult<ArrayLike<number>>;
    return result;
  }

  async close(): Promise<void> {}
}

describe('checkEnv', () => {
  it('passes a correct env, with no warnings when out-of-range actions are rejected or flagged', async () => {
    expect(await checkEnv(new ToyEnv())).toEqual({ ok: true, errors: [], warnings: [] });
    expect(await checkEnv(new ToyEnv('clips-with-flag'))).toEqual({ ok: true, errors: [], warnings: [] });
    await expect(checkEnvOrThrow(new ToyEnv())).resolves.toEqual([]);
  });

  const broken: [Flaw, RegExp][] = [
    ['obs-shape', /observation is not in the observation space: expected 3 entries/],
    ['obs-out-of-space', /observation is not in the observation space: entry 0/],
    ['nan-reward', /reward is NaN/],
    ['inf-reward', /reward is -Infinity/],
    ['unseeded', /not deterministic/],
    ['wrong-types', /reward must be a number/],
    ['bare-reset', /must return \{ observation, info \}/],
    ['info-not-object', /info must be a plain object/],
    ['step-throws', /threw on an action sampled from the action space: boom/],
  ];
  for (const [flaw, message] of broken) {
    it(`catches a broken env: ${flaw}`, async () => {
      const report = await checkEnv(new ToyEnv(flaw));
      expect(report.ok).toBe(false);
      expect(report.errors.join('\n')).toMatch(message);
      const thrown = await checkEnvOrThrow(new ToyEnv(flaw)).catch((e: unknown) => e);
      expect(isSamstarError(thrown)).toBe(true);
      expect(String((thrown as Error).message)).toMatch(message);
    });
  }

  it('reports both wrong types of a step (reward and terminated)', async () => {
    const report = await checkEnv(new ToyEnv('wrong-types'));
    expect(report.errors.join('\n')).toMatch(/terminated must be a boolean, got 1/);
  });

  it('warns (without failing) when an out-of-range action is accepted silently', async () => {
    const report = await checkEnv(new ToyEnv('silent-out-of-range'));
    expect(report.ok).toBe(true);
    expect(report.warnings.join('\n')).toMatch(/accepted silently/);
  });

  it('fails an env whose spaces are not spaces, or whose space samples leave the space', async () => {
    const env = new ToyEnv() as unknown as { observationSpace: unknown };
    env.observationSpace = { kind: 'box', contains: () => true };
    const report = await checkEnv(env as unknown as Env);
    expect(report.ok).toBe(false);
    expect(report.errors[0]).toMatch(/observationSpace must be a Space/);

    const liar: Space<number> = { kind: 'discrete', contains: (v: unknown): v is number => v === 0, sample: () => 1, toJSON: () => ({ type: 'discrete', n: 1, start: 0 }) };
    const env2 = new ToyEnv() as unknown as { actionSpace: unknown };
    env2.actionSpace = liar;
    const report2 = await checkEnv(env2 as unknown as Env);
    expect(report2.errors.join('\n')).toMatch(/sample\(\) gave a value outside the space/);
  });

  it('probes out-of-range actions of a Discrete action space too', async () => {
    class Counter implements Env<number, number> {
      readonly observationSpace = new Discrete(5);
      readonly actionSpace = new Discrete(2);
      private n = 0;
      async reset(): Promise<ResetResult<number>> {
        this.n = 0;
        return { observation: 0, info: {} };
      }
      async step(action: number): Promise<StepResult<number>> {
        this.n = Math.min(4, this.n + (action > 0 ? 1 : 0));
        return { observation: this.n, reward: this.n, terminated: this.n === 4, truncated: false, info: {} };
      }
      async close(): Promise<void> {}
    }
    const report = await checkEnv(new Counter(), { steps: 6 });
    expect(report.errors).toEqual([]);
    expect(report.warnings.join('\n')).toMatch(/accepted silently/);
  });
});
