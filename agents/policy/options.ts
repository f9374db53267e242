/**
 * The zod shape of the options every policy-gradient agent shares
 * (CommonAgentOptions in base.ts), for the agents' own strict schemas
 * (ppo.ts, reinforce.ts), so a misspelt option is an error. Infinity (no
 * gradient clipping, whole-batch minibatches) is written as the string "Infinity".
 */
import { z } from 'zod';

const positiveInt = z.number().int().positive();
const finite = z.number().finite();
const infinity = z.literal('Infinity').transform(() => Infinity);

export const commonOptionShape = {
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
  categories: z.array(z.number().int().nonnegative()).optional(),
};
