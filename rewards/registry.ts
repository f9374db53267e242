import { SamstarError, suggestName } from '../src/util/errors.js';
import { blobs } from './terms/blobs.js';
import { border } from './terms/border.js';
import { contrast } from './terms/contrast.js';
import { count } from './terms/count.js';
import { coverage } from './terms/coverage.js';
import { diameterErrorTerm } from './terms/diameter-error.js';
import { dice } from './terms/dice.js';
import { edge } from './terms/edge.js';
import { meanIou } from './terms/mean-iou.js';
import { msa } from './terms/msa.js';
import { overlap } from './terms/overlap.js';
import { prompts } from './terms/prompts.js';
import { f1, precision, recall } from './terms/detection.js';
import { sa } from './terms/sa.js';
import { shape } from './terms/shape.js';
import { significance } from './terms/significance.js';
import { size } from './terms/size.js';
import type { RewardTerm } from './types.js';

/**
 * Every reward term, as a plain list. Each term's file declares everything about it with
 * defineTerm (types.ts); adding a term is that file plus its line here, and
 * test/rewards/conformance.test.ts then checks it.
 */
export const TERMS: readonly RewardTerm<never>[] = [
  size,
  shape,
  count,
  overlap,
  coverage,
  edge,
  contrast,
  significance,
  border,
  blobs,
  precision,
  recall,
  f1,
  sa,
  msa,
  meanIou,
  dice,
  diameterErrorTerm,
  prompts,
] as unknown as RewardTerm<never>[];

/** The terms by the name a config's `type:` uses. */
export const rewardTerms: Readonly<Record<string, RewardTerm<never>>> = Object.freeze(Object.fromEntries(TERMS.map((term) => [term.type, term])));

export const termTypes: readonly string[] = Object.keys(rewardTerms);

export function getTerm(type: string, where = 'reward term'): RewardTerm<never> {
  const term = rewardTerms[type];
  if (!term) {
    throw new SamstarError('CONFIG_INVALID', `${where}: unknown term type "${type}"`, { hint: suggestName(type, termTypes) });
  }
  return term;
}
