import type { AgentBest } from './types.js';

/**
 * The best finite reward told so far and its candidate (copies in and out), for agents that keep
 * no history of their own (grid, random). Ties keep the first; NaN and ±Infinity never win.
 */
export class BestSoFar {
  private seen: AgentBest | undefined;

  tell(candidates: readonly (readonly number[])[], rewards: readonly number[]): void {
    candidates.forEach((x, j) => {
      const r = rewards[j];
      if (Number.isFinite(r) && (!this.seen || r > this.seen.reward)) this.seen = { x: [...x], reward: r };
    });
  }

  get(): AgentBest | undefined {
    return this.seen && { x: [...this.seen.x], reward: this.seen.reward };
  }
}
