/**
 * Advantage and return estimates over a batch of contiguous trajectories.
 *
 * Generalised advantage estimation (Schulman et al. 2016):
 *   δ_t = r_t + γ · (terminal_t ? 0 : V(s_{t+1})) − V(s_t)
 *   A_t = δ_t + γλ · (episodeEnd_t ? 0 : A_{t+1}),   returns R_t = A_t + V(s_t)
 * A truncated episode end (time limit) is not terminal: it bootstraps with
 * V(s_{t+1}) but does not carry A_{t+1} over (the next transition belongs to a
 * new episode). λ = 1 gives Monte-Carlo returns minus V (REINFORCE's targets);
 * for one-step episodes (done = true, terminal) A_t = r_t − V(s_t) whatever γ, λ.
 */
export interface TrajectoryBatch {
  readonly rewards: ArrayLike<number>;
  /** V(s_t) (zeros when there is no value function). */
  readonly values: ArrayLike<number>;
  /** V(s_{t+1}), used where the step is not terminal. */
  readonly nextValues: ArrayLike<number>;
  /** The episode ended after step t (terminated or truncated). */
  readonly episodeEnd: ArrayLike<boolean>;
  /** The episode reached a terminal state at step t (no bootstrap). */
  readonly terminal: ArrayLike<boolean>;
}

export function generalizedAdvantages(batch: TrajectoryBatch, gamma: number, lambda: number): { advantages: Float64Array; returns: Float64Array } {
  const n = batch.rewards.length;
  const advantages = new Float64Array(n);
  const returns = new Float64Array(n);
  let next = 0;
  for (let t = n - 1; t >= 0; t--) {
    const bootstrap = batch.terminal[t] ? 0 : gamma * batch.nextValues[t];
    const delta = batch.rewards[t] + bootstrap - batch.values[t];
    const carry = batch.episodeEnd[t] ? 0 : gamma * lambda * next;
    advantages[t] = delta + carry;
    returns[t] = advantages[t] + batch.values[t];
    next = advantages[t];
  }
  return { advantages, returns };
}

/** (x − mean) / (std + 1e-8) over a set of values; unchanged when fewer than two. */
export function normalizeInPlace(values: Float64Array): Float64Array {
  const n = values.length;
  if (n < 2) return values;
  let mean = 0;
  for (const v of values) mean += v;
  mean /= n;
  let variance = 0;
  for (const v of values) variance += (v - mean) ** 2;
  const std = Math.sqrt(variance / n);
  for (let i = 0; i < n; i++) values[i] = (values[i] - mean) / (std + 1e-8);
  return values;
}

/** 1 − Var(target − prediction) / Var(target); NaN when the targets do not vary. */
export function explainedVariance(prediction: ArrayLike<number>, target: ArrayLike<number>): number {
  const n = target.length;
  if (n < 2) return NaN;
  let mt = 0;
  let md = 0;
  for (let i = 0; i < n; i++) {
    mt += target[i];
    md += target[i] - prediction[i];
  }
  mt /= n;
  md /= n;
  let vt = 0;
  let vd = 0;
  for (let i = 0; i < n; i++) {
    vt += (target[i] - mt) ** 2;
    vd += (target[i] - prediction[i] - md) ** 2;
  }
  return vt === 0 ? NaN : 1 - vd / vt;
}
