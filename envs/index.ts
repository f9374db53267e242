/** The environment API: spaces, the checker, evaluators and the environments. */
export type { Env, Space, ResetResult, StepResult } from './types.js';
export { ACTION_CLIPPED } from './types.js';
export { Box, Discrete, Dict, spaceFromJSON, explainSpace, type SpaceJSON, type BoxJSON, type DiscreteJSON, type DictJSON } from './spaces.js';
export { checkEnv, checkEnvOrThrow, type CheckEnvOptions, type CheckEnvReport } from './check-env.js';
export { InProcessEvaluator, evaluateFrame, type Evaluator, type EvalFrame, type FrameEvaluation } from './evaluator.js';
export { WorkerPoolEvaluator, type WorkerEvaluatorOptions, type WorkerStats } from './worker-evaluator.js';
export { createSegmenter, segmenterSpecOf, type SegmenterSpec } from './segmenter-spec.js';
export { TuneEnv, frameSourceOf, type TuneEnvOptions, type TuneEvaluation, type TuneStepInfo, type FrameSource } from './tune-env.js';
export { FEATURE_NAMES, FEATURE_VERSION, FEATURE_BOUNDS, FEATURE_SIGMAS, featureSpec, frameFeatures, frameFeatureRecord, type FeatureSpec } from '../src/image/features.js';
export { AdjustEnv, segmentationStats, SEGMENTATION_STAT_NAMES, type AdjustEnvOptions, type AdjustStepInfo, type SegmentationStats } from './adjust-env.js';
export { StreamEnv, type StreamEnvOptions, type StreamStepInfo } from './stream-env.js';
