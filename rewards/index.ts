/** Reward terms, the composite reward and its config. See README.md for every term. */
export type { RewardInput, RewardTerm, TermNeeds, Truth } from './types.js';
export { defineTerm } from './types.js';
export { TERMS, rewardTerms, termTypes, getTerm } from './registry.js';
export { compileReward, evaluateReward, objectivesTotal, type CompiledReward, type RewardResult, type EvaluateOptions } from './composite.js';
export { parseRewardConfig, loadRewardConfig, compositeSchema, measureSchema, parseObjectives, OBJECTIVE_DIRECTIONS, type ObjectiveDirection, type ObjectiveSpec, type RewardConfig, type TermSpec } from './config.js';
export { compileExpression, EXPRESSION_FUNCTIONS, type CompiledExpression } from './expression.js';
export {
  normalDistribution,
  lognormalDistribution,
  histogramDistribution,
  wasserstein1,
  kolmogorovSmirnov,
  type Distribution,
} from './distributions.js';
export { sizeReward } from './terms/size.js';
export { shapeReward, instanceShapeScore } from './terms/shape.js';
export { countReward, expectedCount } from './terms/count.js';
export { overlapPenalty } from './terms/overlap.js';
export { coverageReward } from './terms/coverage.js';
export { edgeReward } from './terms/edge.js';
export { contrastReward } from './terms/contrast.js';
export { borderPenalty } from './terms/border.js';
export { precisionReward, recallReward, f1Reward } from './terms/detection.js';
export { saReward } from './terms/sa.js';
export { msaReward } from './terms/msa.js';
export { meanIouReward } from './terms/mean-iou.js';
export { diceReward } from './terms/dice.js';
export { diameterError } from './terms/diameter-error.js';
