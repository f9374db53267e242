/** Training runs: the runner, task resolution, the train entry point, summaries and study listings. */
export {
  runStudy,
  framesForGeneration,
  type RunStudyOptions,
  type RunStudyResult,
  type EvaluateFn,
  type EvaluateContext,
  type EvaluationOutcome,
  type EvaluationEvent,
  type GenerationEvent,
  type FrameSampling,
} from './runner.js';
export { resolveTask, type ResolvedTask } from './task.js';
export { train, storedTask, taskIdentity, bestKnobsFile, fileFrameSource, STUDY_FILE, BEST_KNOBS_FILE, SUMMARY_FILE, POLICY_DIR, type TrainOptions, type TrainResult } from './train.js';
export { buildSummary, formatSummary, bestOf, type TrainSummary, type RunSummaryBase, type SummaryPoint } from './summary.js';
export { listStudies, showStudy, findStudyFiles, formatStudyList, formatStudyDetail, type StudyRow, type StudyDetail } from './studies.js';
export { searchBounds } from './bounds.js';
export { expandGlob } from './glob.js';
export { createPolicyAgent } from '../../agents/policy/registry.js';
export { trainPolicy, formatPolicySummary, visitOrder, type PolicyTrainOptions, type PolicyTrainResult, type PolicyTrainSummary } from './policy-train.js';
export { dataHash, policyProvenance, defaultAdaptSettings } from './provenance.js';
export { trainOnEnv, evaluatePolicyOnEnv, type VectorEnv, type Actor, type EnvTrainOptions, type EnvTrainSummary, type EnvEvaluation, type EpisodeEvent, type UpdateEvent } from './env-train.js';
