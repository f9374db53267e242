/**
 * zod schemas of the policy agents' options, for task configs
 * (`agent: { name: ppo, options: {...} }`), in the style of ../registry.ts:
 * strict objects, so a misspelt option is an error. Infinity (no gradient
 * clipping, whole-batch minibatches) is written as the string "Infinity".
 */
import { z } from 'zod';

const positiveInt = z.number().int().positive();
const finite = z.number().finite();
const infinity = z.literal('Infinity').transform(() => Infinity);

const common = {
  hidden: z.array(positiveInt).optional(),
  logStdInit: finite.optional(),
  normalizeObservations: z.boolean().optional(),
  observationClip: z.number().positive().finite().optional(),
  learningRate: z.number().positive().finite().optional(),
  adamEpsilon: z.number().positive().finite().optional(),
  rolloutSize: positiveInt.optional(),
  minibatchSize: z.union([positiveInt, infinity]).optional(),
  epochs: positiveInt.optional(),
  gamma: z.number().min(0).max(1).optional(),
  entropyCoef: finite.optional(),
  valueCoef: z.number().nonnegative().finite().optional(),
  maxGradNorm: z.union([z.number().positive().finite(), infinity]).optional(),
  normalizeAdvantage: z.boolean().optional(),
};

export const ppoOptionsSchema = z.strictObject({
  ...common,
  clipRange: z.number().positive().finite().optional(),
  gaeLambda: z.number().min(0).max(1).optional(),
  targetKl: z.number().positive().finite().optional(),
});

export const reinforceOptionsSchema = z.strictObject({
  ...common,
  baseline: z.enum(['value', 'mean', 'none']).optional(),
  baselineDecay: z.number().min(0).lt(1).optional(),
});

export const policyAgentOptionSchemas = { ppo: ppoOptionsSchema, reinforce: reinforceOptionsSchema } as const;
