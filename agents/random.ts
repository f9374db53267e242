/**
 * Random search: independent uniform draws in the box (stepped dimensions
 * snapped to their lattice, so every level of an integer knob is equally
 * likely up to the half-step at both ends), `batch` per ask. The baseline
 * every other agent has to beat.
 *
 * Stop reason: `budget` once `maxEvaluations` rewards were told.
 */
import { Rng } from '../src/util/rng.js';
import { BestSoFar } from './best.js';
import { type Box, checkPositiveInt, checkTell, makeBox, snapValue } from './bo-box.js';
import { z } from 'zod';
import { type AgentBest, type AskTellAgent, defineAgent, type Assert, type SameKeys, type SearchBounds } from './types.js';

export interface RandomSearchOptions {
  /** Stop reason `budget` once this many rewards were told (default: none). */
  readonly maxEvaluations?: number;
  /** Candidates per ask (default 1). */
  readonly batch?: number;
}

export class RandomSearch implements AskTellAgent {
  readonly name = 'random';
  readonly dimension: number;
  private readonly box: Box;
  private readonly rng: Rng;
  private readonly maxEvaluations: number;
  private readonly batch: number;
  private pending = 0;
  private told = 0;
  private readonly bestSeen = new BestSoFar();

  constructor(bounds: SearchBounds, seed: number, options: RandomSearchOptions = {}) {
    this.box = makeBox(bounds, 'random');
    this.dimension = this.box.dimension;
    checkPositiveInt('random', 'maxEvaluations', options.maxEvaluations, true);
    checkPositiveInt('random', 'batch', options.batch);
    this.maxEvaluations = options.maxEvaluations ?? Infinity;
    this.batch = options.batch ?? 1;
    this.rng = new Rng(seed);
  }

  ask(): number[][] {
    const count = Math.max(0, Math.min(this.batch, this.maxEvaluations - this.told));
    const out: number[][] = [];
    for (let j = 0; j < count; j++) {
      const x = new Array<number>(this.dimension);
      for (let i = 0; i < this.dimension; i++) {
        // Stepped dimensions draw a lattice level uniformly; continuous ones a uniform value.
        x[i] =
          this.box.steps[i] > 0
            ? snapValue(this.box, i, this.box.low[i] + this.rng.int(this.box.levels[i] + 1) * this.box.steps[i])
            : snapValue(this.box, i, this.rng.uniform(this.box.low[i], this.box.high[i]));
      }
      out.push(x);
    }
    this.pending = count;
    return out;
  }

  tell(candidates: readonly (readonly number[])[], rewards: readonly number[]): void {
    checkTell('random', this.dimension, this.pending, candidates, rewards);
    this.pending = 0;
    this.told += candidates.length;
    this.bestSeen.tell(candidates, rewards);
  }

  stop(): string[] {
    return this.told >= this.maxEvaluations ? ['budget'] : [];
  }

  best(): AgentBest | undefined {
    return this.bestSeen.get();
  }
}

const schema = z.strictObject({
  maxEvaluations: z.number().int().positive().optional(),
  batch: z.number().int().positive().optional(),
});
/** Fails tsc when the schema and RandomSearchOptions stop having the same keys. */
type SchemaMatchesOptions = Assert<SameKeys<z.infer<typeof schema>, RandomSearchOptions>>;

/** The registry's `random` (registry.ts). */
export const random = defineAgent({
  name: 'random',
  description: 'uniform random search',
  schema,
  create: (bounds, seed, options) => new RandomSearch(bounds, seed, options),
});
