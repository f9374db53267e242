/**
 * samstar's public API: everything the CLI does is available here as typed
 * functions. The folders and the order of their layers (imports point down,
 * a test holds them to it) are in docs/architecture.md.
 */
export { SamstarError, isSamstarError, type ErrorCode } from './util/errors.js';
export { Rng } from './util/rng.js';

export type { Frame } from './image/frame.js';
export { loadFrame, frameFromPixels } from './image/load.js';
export { renderOverlayPng, writeOverlayPng } from './image/overlay.js';

export type { BinaryMask, Rle, LabelImage, BoxXYXY, BoxXYWH } from './masks/types.js';
export { encodeRle, decodeRle, rleArea } from './masks/rle.js';
export { masksToLabelImage, labelImageToMasks } from './masks/label-image.js';
export { readLabelPng, writeLabelPng } from './masks/label-png.js';
export { labelComponents } from './masks/components.js';

export { KnobSpace, type KnobSpec, type KnobValues, type KnobStage } from './segmenters/knobs.js';
export type { Segmenter, Segmentation, Instance } from './segmenters/types.js';
export { SamSegmenter, referenceModelFiles, defaultModelFiles, type SamSegmenterOptions } from './segmenters/sam/segmenter.js';
export { BUNDLED_MODELS, DEFAULT_MODEL, bundledModelFiles, defaultModelName, type BundledModelName } from './segmenters/sam/bundled-models.js';
export { samKnobSpace, SAM_KNOBS, SAM2_KNOBS } from './segmenters/sam/knob-specs.js';
export { DEVICES, type Device } from './segmenters/sam/devices.js';
export { loadModel, type ModelFiles } from './segmenters/sam/onnx-model.js';

export { generateSynthFrame, generateSynthSeries } from './data/synth.js';
export { writeSynthDataset } from './data/synth-files.js';

export * as measure from './measure/index.js';
export * as rewards from '../rewards/index.js';

export type { AskTellAgent, SearchBounds, AgentBest } from '../agents/types.js';
export { CmaEs } from '../agents/cmaes.js';
export { BayesOpt } from '../agents/bayesopt.js';
export { GridAgent, microSamGrid } from '../agents/grid.js';
export { RandomSearch } from '../agents/random.js';
export { ParetoArchive, hypervolume } from '../agents/pareto.js';
export { ScalarisedSearch } from '../agents/parego.js';
export { readParetoFile, pickParetoPoint, PARETO_FILE, type ParetoFile, type ParetoPoint } from './train/pareto-file.js';
export { scalarisedSearch, paretoOfStudy } from './train/multi-objective.js';
export { createAgent, AGENT_NAMES } from '../agents/registry.js';
// Policy-gradient agents: tfjs is loaded on the first learn(), not by this import.
export { PpoAgent, ReinforceAgent } from '../agents/policy/index.js';
export type { PolicyAgent, Transition, ActResult, LearnStats } from '../agents/policy/types.js';

export type { Env, Space, ResetResult, StepResult } from '../envs/types.js';
export { Box, Discrete, Dict, checkEnv, checkEnvOrThrow, TuneEnv, AdjustEnv, StreamEnv } from '../envs/index.js';
export { frameFeatures, FEATURE_NAMES, FEATURE_VERSION } from './image/features.js';
export { trainOnEnv, evaluatePolicyOnEnv, type EnvTrainOptions, type EnvTrainSummary, type EnvEvaluation } from './train/env-train.js';
// Evaluations on many machines: samstar worker (startWorker) and --redis (RedisEvaluator for studies, RemoteSegmenter for watch).
export { startWorker, RedisEvaluator, RemoteSegmenter, type WorkerOptions, type WorkerHandle, type RedisEvaluatorOptions, type RemoteExecution, type DistributedProgress } from './distributed/index.js';

export { BlobSegmenter } from './segmenters/blobs/segmenter.js';
export { OtsuSegmenter } from './segmenters/otsu/segmenter.js';
export { SEGMENTERS, SEGMENTER_NAMES, getSegmenter, loadSegmenter, loadTaskSegmenter, segmenterKnobSpace, type SegmenterName } from './segmenters/registry.js';
export { defineSegmenter, type SegmenterDefinition } from './segmenters/definition.js';
export { KnobMapping } from './segmenters/knob-mapping.js';
export { detectBlobs, type Blob, type BlobOptions } from './image/blobs.js';

export { Policy, OnlineAdapter, writeStaticPolicy, writeNetworkPolicy } from './policy/index.js';
export { startServer, type ServeOptions } from './serve/index.js';
