import { SamstarError } from '../src/util/errors.js';
import { Rng } from '../src/util/rng.js';
import { Box, describeValue, Discrete, explainSpace, spaceFromJSON } from './spaces.js';
import { ACTION_CLIPPED, type Env, type Space } from './types.js';

/**
 * The environment checker, after Gymnasium's `check_env`: it drives an env
 * through reset/step with sampled actions and reports every broken promise of
 * the contract.
 *
 * Errors (the env is not usable by the runner or agents):
 *  - a space without contains/sample/toJSON, a JSON form that does not read back
 *    to the same space, samples outside their own space;
 *  - reset not giving `{ observation, info }`, an observation outside the
 *    observation space, info not a plain object;
 *  - step not giving the declared types: reward a finite number (NaN/±Inf are
 *    errors), terminated/truncated booleans, info a plain object, observation in
 *    the space;
 *  - the same seed and the same actions giving different observations or rewards
 *    (the whole sequence is run twice);
 *  - reset or step throwing on valid input.
 * Warnings (legal but suspicious):
 *  - an out-of-range action accepted without an error and without
 *    `info.actionClipped = true` (silently clipped or silently used);
 *  - a non-JSON-serialisable info.
 */
export interface CheckEnvReport {
  readonly ok: boolean;
  readonly errors: string[];
  readonly warnings: string[];
}

export interface CheckEnvOptions {
  /** Seed for reset and for sampling actions (default 0). */
  readonly seed?: number;
  /** Steps per run (default 3; episodes that end are reset without a seed, as Gymnasium continues). */
  readonly steps?: number;
  /** Skip the out-of-range action probe (e.g. for envs where a step is very expensive). */
  readonly skipOutOfRange?: boolean;
}

interface Trace {
  readonly observations: unknown[];
  readonly rewards: number[];
}

export async function checkEnv<O, A>(env: Env<O, A>, options: CheckEnvOptions = {}): Promise<CheckEnvReport> {
  const seed = options.seed ?? 0;
  const steps = options.steps ?? 3;
  const errors: string[] = [];
  const warnings: string[] = [];

  const spacesOk = checkSpace(env.observationSpace, 'observationSpace', seed, errors) && checkSpace(env.actionSpace, 'actionSpace', seed, errors);
  if (!spacesOk || typeof env.reset !== 'function' || typeof env.step !== 'function') {
    if (typeof env.reset !== 'function' || typeof env.step !== 'function') errors.push('env must have reset() and step() methods');
    return { ok: false, errors, warnings };
  }

  // The same actions for both runs, sampled from the action space with the checker's own Rng.
  const actionRng = new Rng(seed ^ 0x5eed);
  const actions: A[] = [];
  for (let i = 0; i < steps; i++) actions.push(env.actionSpace.sample(actionRng));

  const first = await run(env, seed, actions, errors, warnings, 'run 1');
  if (!first) return { ok: false, errors, warnings };
  const second = await run(env, seed, actions, [], [], 'run 2');
  if (!second) {
    errors.push('a second run with the same seed and actions threw or broke the contract although the first did not');
  } else {
    compareTraces(first, second, errors);
  }

  if (!options.skipOutOfRange) await probeOutOfRange(env, seed, errors, warnings);
  return { ok: errors.length === 0, errors, warnings };
}

/** checkEnv, throwing a SamstarError that lists every error (warnings are returned). */
export async function checkEnvOrThrow<O, A>(env: Env<O, A>, options: CheckEnvOptions = {}): Promise<string[]> {
  const report = await checkEnv(env, options);
  if (!report.ok) {
    throw new SamstarError('ARGUMENT_INVALID', `environment check failed:\n${report.errors.map((e) => `  - ${e}`).join('\n')}`, {
      hint: 'see envs/check-env.ts for what the checker expects',
    });
  }
  return report.warnings;
}

function checkSpace(space: unknown, name: string, seed: number, errors: string[]): boolean {
  const s = space as Space<unknown> | undefined;
  if (!s || typeof s.contains !== 'function' || typeof s.sample !== 'function' || typeof s.toJSON !== 'function') {
    errors.push(`${name} must be a Space with contains(), sample(rng) and toJSON()`);
    return false;
  }
  let ok = true;
  try {
    const text = JSON.stringify(s.toJSON());
    if (['box', 'discrete', 'dict'].includes(s.kind)) {
      const back = JSON.stringify(spaceFromJSON(JSON.parse(text), name).toJSON());
      if (back !== text) {
        errors.push(`${name}.toJSON() does not read back to the same space (${text} → ${back})`);
        ok = false;
      }
    }
  } catch (e) {
    errors.push(`${name}.toJSON() is not a readable JSON form: ${(e as Error).message}`);
    ok = false;
  }
  try {
    const a = s.sample(new Rng(seed));
    const b = s.sample(new Rng(seed));
    if (!s.contains(a)) {
      errors.push(`${name}.sample() gave a value outside the space: ${explainSpace(s, a)}`);
      ok = false;
    }
    if (!deepEqual(a, b)) {
      errors.push(`${name}.sample() is not deterministic for the same Rng seed`);
      ok = false;
    }
  } catch (e) {
    errors.push(`${name}.sample() threw: ${(e as Error).message}`);
    ok = false;
  }
  return ok;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

async function run<O, A>(env: Env<O, A>, seed: number, actions: readonly A[], errors: string[], warnings: string[], label: string): Promise<Trace | undefined> {
  const observations: unknown[] = [];
  const rewards: number[] = [];
  const before = errors.length;
  const reset = async (withSeed: boolean, where: string): Promise<boolean> => {
    let result: unknown;
    try {
      result = await env.reset(withSeed ? { seed } : undefined);
    } catch (e) {
      errors.push(`${label}: ${where} threw: ${(e as Error).message}`);
      return false;
    }
    if (!isPlainObject(result) || !('observation' in result) || !('info' in result)) {
      errors.push(`${label}: ${where} must return { observation, info }, got ${describeValue(result)}`);
      return false;
    }
    checkObservation(env.observationSpace, result.observation, `${label}: ${where}`, errors);
    if (!isPlainObject(result.info)) errors.push(`${label}: ${where} info must be a plain object, got ${describeValue(result.info)}`);
    else checkSerialisable(result.info, `${label}: ${where} info`, warnings);
    observations.push(result.observation);
    return true;
  };

  if (!(await reset(true, `reset({ seed: ${seed} })`))) return undefined;
  for (let i = 0; i < actions.length; i++) {
    const where = `step ${i + 1}`;
    let result: unknown;
    try {
      result = await env.step(actions[i]);
    } catch (e) {
      errors.push(`${label}: ${where} threw on an action sampled from the action space: ${(e as Error).message}`);
      return undefined;
    }
    const ended = checkStepResult(env.observationSpace, result, `${label}: ${where}`, errors, warnings);
    if (ended === undefined) return undefined;
    const r = result as { observation: unknown; reward: number };
    observations.push(r.observation);
    rewards.push(r.reward);
    if (ended && i < actions.length - 1 && !(await reset(false, `reset() after ${where}`))) return undefined;
  }
  return errors.length === before ? { observations, rewards } : undefined;
}

/** Checks a step result's types; returns whether the episode ended (undefined when the result is unusable). */
function checkStepResult(space: Space<unknown>, result: unknown, where: string, errors: string[], warnings: string[]): boolean | undefined {
  if (!isPlainObject(result)) {
    errors.push(`${where}: step must return { observation, reward, terminated, truncated, info }, got ${describeValue(result)}`);
    return undefined;
  }
  const missing = ['observation', 'reward', 'terminated', 'truncated', 'info'].filter((k) => !(k in result));
  if (missing.length) {
    errors.push(`${where}: step result lacks ${missing.join(', ')}`);
    return undefined;
  }
  const { observation, reward, terminated, truncated, info } = result;
  checkObservation(space, observation, where, errors);
  if (typeof reward !== 'number') errors.push(`${where}: reward must be a number, got ${describeValue(reward)}`);
  else if (!Number.isFinite(reward)) errors.push(`${where}: reward is ${reward} (NaN and ±Infinity are not allowed)`);
  if (typeof terminated !== 'boolean') errors.push(`${where}: terminated must be a boolean, got ${describeValue(terminated)}`);
  if (typeof truncated !== 'boolean') errors.push(`${where}: truncated must be a boolean, got ${describeValue(truncated)}`);
  if (!isPlainObject(info)) errors.push(`${where}: info must be a plain object, got ${describeValue(info)}`);
  else checkSerialisable(info, `${where} info`, warnings);
  return terminated === true || truncated === true;
}

function checkObservation(space: Space<unknown>, observation: unknown, where: string, errors: string[]): void {
  let contained = false;
  try {
    contained = space.contains(observation);
  } catch (e) {
    errors.push(`${where}: observationSpace.contains threw on the observation: ${(e as Error).message}`);
    return;
  }
  if (!contained) errors.push(`${where}: observation is not in the observation space: ${explainSpace(space, observation)}`);
}

function checkSerialisable(info: Record<string, unknown>, where: string, warnings: string[]): void {
  try {
    JSON.stringify(info);
  } catch (e) {
    warnings.push(`${where} is not JSON-serialisable (${(e as Error).message}); the study store cannot record it`);
  }
}

function compareTraces(a: Trace, b: Trace, errors: string[]): void {
  for (let i = 0; i < Math.min(a.observations.length, b.observations.length); i++) {
    if (!deepEqual(a.observations[i], b.observations[i])) {
      errors.push(`not deterministic: the same seed and actions gave a different observation at ${i === 0 ? 'reset' : `observation ${i}`}`);
      break;
    }
  }
  for (let i = 0; i < Math.min(a.rewards.length, b.rewards.length); i++) {
    if (!Object.is(a.rewards[i], b.rewards[i])) {
      errors.push(`not deterministic: the same seed and actions gave reward ${a.rewards[i]} then ${b.rewards[i]} at step ${i + 1}`);
      break;
    }
  }
}

/** An action just outside the action space (one entry pushed past its bound), when one can be built. */
function outOfRangeAction(space: Space<unknown>): unknown {
  if (space instanceof Box) {
    const inside = Array.from(space.low, (lo, i) => {
      const hi = space.high[i];
      return Number.isFinite(lo) && Number.isFinite(hi) ? (lo + hi) / 2 : Number.isFinite(lo) ? lo : Number.isFinite(hi) ? hi : 0;
    });
    for (let i = 0; i < space.size; i++) {
      const width = Number.isFinite(space.high[i] - space.low[i]) ? Math.max(1, space.high[i] - space.low[i]) : 1;
      if (Number.isFinite(space.high[i])) inside[i] = space.high[i] + width;
      else if (Number.isFinite(space.low[i])) inside[i] = space.low[i] - width;
      else continue;
      return Float64Array.from(inside);
    }
    return undefined;
  }
  if (space instanceof Discrete) return space.start + space.n;
  return undefined;
}

async function probeOutOfRange<O, A>(env: Env<O, A>, seed: number, errors: string[], warnings: string[]): Promise<void> {
  const action = outOfRangeAction(env.actionSpace);
  if (action === undefined) return;
  try {
    await env.reset({ seed });
  } catch (e) {
    errors.push(`reset before the out-of-range probe threw: ${(e as Error).message}`);
    return;
  }
  let result: unknown;
  try {
    result = await env.step(action as A);
  } catch {
    return; // rejected loudly: fine
  }
  if (checkStepResult(env.observationSpace, result, 'out-of-range step', errors, warnings) === undefined) return;
  const info = (result as { info: unknown }).info;
  if (!isPlainObject(info) || info[ACTION_CLIPPED] !== true) {
    warnings.push(`an action outside the action space (${describeValue(action)}) was accepted silently: reject it or set info.${ACTION_CLIPPED} = true when clipping`);
  }
}

/** Structural equality; numbers by Object.is (NaN equals NaN, 0 ≠ −0 is relaxed to equal). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b || (Number.isNaN(a) && Number.isNaN(b));
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const arrayA = Array.isArray(a) || ArrayBuffer.isView(a);
  const arrayB = Array.isArray(b) || ArrayBuffer.isView(b);
  if (arrayA || arrayB) {
    if (!arrayA || !arrayB) return false;
    const x = a as ArrayLike<unknown>;
    const y = b as ArrayLike<unknown>;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!deepEqual(x[i], y[i])) return false;
    return true;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}
