/**
 * Policy-gradient agents: tfjs backends on the 64×64 policy + value networks
 * (forward and forward+backward of the training loss), act() latency (the
 * per-frame decision), and convergence on the toy contextual bandit of the
 * tests (reward = −‖a − W·z‖²).
 *
 *   npm run bench -- pg [--quick]
 *
 * Last line: {"bench":"pg","backend":…,"wasm_step_ms":…,"cpu_step_ms":…,"wasm_speedup":…,
 *   "act_ms_p50":…,"act_ms_p99":…,"tfjs_act_ms":…,"ppo_error":…,"ppo_s":…,"reinforce_error":…,"reinforce_s":…}
 */
import type { Tensor } from '@tensorflow/tfjs';
import { loadTf, switchBackend } from '../agents/policy/backend.js';
import { denseFor, forwardTf, GaussianPolicy, gaussianLogProbTf, parameterArrays, parameterShapes, resolvePolicyConfig } from '../agents/policy/gaussian-policy.js';
import { PpoAgent } from '../agents/policy/ppo.js';
import { ReinforceAgent } from '../agents/policy/reinforce.js';
import { Rng } from '../src/util/rng.js';
import { actionError, makeToy, trainOnToy } from '../test/agents/policy/toy.js';
import { machineLine, median } from './_machine.js';

const FEATURES = 16;
const KNOBS = 10;
const BATCH = 64;

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

/** ms per call of fn, median of `rounds` rounds of `n` calls. */
function timeIt(fn: () => void, n: number, rounds = 5): number {
  for (let i = 0; i < Math.max(3, n / 5); i++) fn();
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    times.push((performance.now() - t0) / n);
  }
  return median(times);
}

export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  console.log(machineLine());
  const runtime = await loadTf();
  const { tf } = runtime;
  console.log(`policy backend: ${runtime.backend}${runtime.notes.length ? ` (${runtime.notes.join('; ')})` : ''}`);

  // --- backends on the training loss of a 16 → 64 → 64 → 10 policy + value network, batch 64.
  const policy = GaussianPolicy.create(resolvePolicyConfig(FEATURES, KNOBS), 1);
  const rng = new Rng(2);
  const obs = Array.from({ length: BATCH }, () => Array.from({ length: FEATURES }, () => rng.normal()));
  const actions = Array.from({ length: BATCH }, () => Array.from({ length: KNOBS }, () => rng.normal()));
  const targets = Array.from({ length: BATCH }, () => rng.normal());
  const stepMs: Record<string, { forward: number; step: number }> = {};
  const backends = [runtime.backend, ...(['wasm', 'cpu'] as const).filter((b) => b !== runtime.backend)];
  for (const name of backends) {
    if (!(await switchBackend(name))) continue;
    const dense = denseFor(tf, name);
    const arrays = parameterArrays(policy);
    const shapes = parameterShapes(policy);
    const forward = () => {
      const out = tf.tidy(() => {
        const p = arrays.map((a, i) => tf.tensor(a, shapes[i]));
        return forwardTf(tf, dense, p, tf.tensor2d(obs)).mean;
      });
      out.dataSync();
      out.dispose();
    };
    const step = () => {
      const params = arrays.map((a, i) => tf.tensor(a, shapes[i]));
      const o = tf.tensor2d(obs);
      const a = tf.tensor2d(actions);
      const t = tf.tensor1d(targets);
      const grads = tf.grads((...p: Tensor[]) => {
        const { mean, value } = forwardTf(tf, dense, p, o);
        return tf.add(tf.neg(tf.mean(gaussianLogProbTf(tf, a, mean, p[p.length - 1]))), tf.mean(tf.square(tf.sub(value!, t)))) as never;
      })(params);
      for (const g of grads) g.dataSync();
      tf.dispose([...params, ...grads, o, a, t]);
    };
    stepMs[name] = { forward: timeIt(forward, quick ? 20 : 50), step: timeIt(step, quick ? 10 : 30) };
    console.log(`${name}: forward (policy + value, batch ${BATCH}) ${stepMs[name].forward.toFixed(2)} ms, forward+backward ${stepMs[name].step.toFixed(2)} ms`);
  }
  await switchBackend(runtime.backend);
  const wasmSpeedup = stepMs.wasm && stepMs.cpu ? stepMs.cpu.step / stepMs.wasm.step : NaN;
  if (Number.isFinite(wasmSpeedup)) console.log(`wasm vs cpu backend, forward+backward: ${wasmSpeedup.toFixed(1)}×`);

  // --- act(): the per-frame decision, in plain JS.
  const frames = Array.from({ length: 1000 }, () => Array.from({ length: FEATURES }, () => 10 + 5 * rng.normal()));
  policy.normalizer.updateBatch(frames);
  const lat: number[] = [];
  for (let round = 0; round < (quick ? 3 : 10); round++) {
    for (const f of frames) {
      const t0 = performance.now();
      policy.act(f, { deterministic: true });
      lat.push(performance.now() - t0);
    }
  }
  const act50 = percentile(lat.slice(frames.length), 0.5);
  const act99 = percentile(lat.slice(frames.length), 0.99);
  const actRng = new Rng(3);
  const stochastic = timeIt(() => policy.act(frames[0], {}, actRng), 2000);
  // The same decision through tfjs (batch 1), for comparison.
  const dense = denseFor(tf, runtime.backend);
  const arrays = parameterArrays(policy);
  const shapes = parameterShapes(policy);
  const params = arrays.map((a, i) => tf.tensor(a, shapes[i]));
  const tfjsAct = timeIt(() => {
    const out = tf.tidy(() => forwardTf(tf, dense, params, tf.tensor2d([Array.from(policy.normalize(frames[0]))]), { value: false }).mean);
    out.dataSync();
    out.dispose();
  }, 200);
  tf.dispose(params);
  console.log(`act(deterministic), ${FEATURES} features → ${KNOBS} knobs, 64×64: p50 ${(act50 * 1000).toFixed(1)} µs, p99 ${(act99 * 1000).toFixed(1)} µs (JS); stochastic ${(stochastic * 1000).toFixed(1)} µs; the same forward in tfjs (${runtime.backend}, batch 1) ${tfjsAct.toFixed(3)} ms`);

  // --- convergence on the toy bandit (defaults except logStdInit −0.5, as in the tests).
  const toy = makeToy();
  const converge = async (name: string, agent: PpoAgent | ReinforceAgent, samples: number) => {
    const before = actionError(agent, toy);
    const t0 = performance.now();
    const r = await trainOnToy(agent, toy, samples);
    const seconds = (performance.now() - t0) / 1000;
    const after = actionError(agent, toy);
    const steps = r.stats.reduce((a, s) => a + s.gradientSteps, 0);
    const learnMs = r.stats.reduce((a, s) => a + s.milliseconds, 0);
    console.log(`${name}: ${samples} samples, action RMS error ${before.toFixed(3)} → ${after.toFixed(3)}, ${seconds.toFixed(1)} s (${steps} gradient steps, ${(learnMs / steps).toFixed(1)} ms per step incl. batch preparation)`);
    return { error: after, seconds, stepMs: learnMs / steps };
  };
  const ppo = await converge('PPO (rollout 128, minibatch 32, 10 epochs)', new PpoAgent(toy.k, toy.d, 1, { logStdInit: -0.5 }), quick ? 2048 : 3072);
  const reinforce = await converge('REINFORCE (rollout 16, 1 step per batch)', new ReinforceAgent(toy.k, toy.d, 1, { logStdInit: -0.5, rolloutSize: 16 }), quick ? 4096 : 6144);

  const round = (v: number, digits = 3) => (Number.isFinite(v) ? Number(v.toFixed(digits)) : null);
  console.log(
    JSON.stringify({
      bench: 'pg',
      backend: runtime.backend,
      wasm_step_ms: round(stepMs.wasm?.step ?? NaN, 2),
      cpu_step_ms: round(stepMs.cpu?.step ?? NaN, 2),
      wasm_speedup: round(wasmSpeedup, 2),
      act_ms_p50: round(act50, 4),
      act_ms_p99: round(act99, 4),
      tfjs_act_ms: round(tfjsAct, 3),
      ppo_error: round(ppo.error),
      ppo_s: round(ppo.seconds, 1),
      ppo_step_ms: round(ppo.stepMs, 2),
      reinforce_error: round(reinforce.error),
      reinforce_s: round(reinforce.seconds, 1),
    }),
  );
}
