export { describeRedisUrl, DEFAULT_RECONNECT_LIMIT_MS, type RedisTarget } from './connection.js';
export { RedisEvaluator, remoteEvaluator, type DistributedProgress, type RedisEvaluatorOptions, type RemoteExecution } from './evaluator.js';
export { RemoteSegmenter } from './remote-segmenter.js';
export { parseJob, queueOf, DEFAULT_NAMESPACE, PROTOCOL_VERSION, type EvaluateJob, type JobResult, type WorkerInfo } from './protocol.js';
export { startWorker, type WorkerHandle, type WorkerOptions } from './worker.js';
