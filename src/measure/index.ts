export * from './types.js';
export {
  cropsFromLabels,
  cropsFromMasks,
  cropsFromPrediction,
  cropsFromSegmentation,
  isSegmentation,
  validateLabelImage,
  type Prediction,
} from './crops.js';
export { measure, measureLabels, measureMasks, measureSet } from './measure.js';
export { measurementsToJson, type MeasurementsJson } from './json.js';
export { otsuThreshold, gradientQuantile, greyQuantile } from './frame-stats.js';
export { overlapTable, type OverlapTable } from './overlaps.js';
export { matchInstances, meanSegmentationAccuracy, foregroundDice, MSA_THRESHOLDS, type MatchScores } from './matching.js';
export { maxWeightMatching, type Candidates } from './assignment.js';
export { solveAssignment } from './hungarian.js';
export {
  parseYoloBoxes,
  readYoloBoxes,
  matchBoxes,
  isBoxTruth,
  type BoxTruth,
  type TruthBox,
  type BoxMatchOptions,
  type BoxScores,
} from './boxes.js';
export { scorePrediction, meanScores, type ImageScores } from './evaluate.js';
export { evaluateDirectories, type DirectoryEvaluation } from './evaluate-dirs.js';
