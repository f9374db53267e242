/**
 * Worker entry of WorkerPoolEvaluator: owns one segmenter (and so its stage
 * caches) and a store of the frames pinned to it, and evaluates (frame, knobs)
 * jobs with the same `evaluateFrame` as the in-process evaluator.
 */
import type { RewardConfig } from '../rewards/index.js';
import type { Frame } from '../src/image/frame.js';
import type { LabelImage } from '../src/masks/types.js';
import type { KnobSpec, KnobValues } from '../src/segmenters/knobs.js';
import { LruCache } from '../src/util/lru.js';
import { serveWorker } from '../src/util/worker-pool.js';
import { evaluateFrame, rewardFromConfig, type FrameEvaluation } from './evaluator.js';
import { createSegmenter, type SegmenterSpec } from './segmenter-spec.js';

export interface EvalWorkerData {
  readonly segmenter: SegmenterSpec;
  readonly reward: RewardConfig;
  /** Byte budget of the frames a worker keeps (default 1 GiB). */
  readonly frameCacheBytes?: number;
}

export interface EvalWorkerReady {
  readonly name: string;
  readonly knobs: KnobSpec[];
}

export type EvalWorkerRequest =
  | {
      readonly type: 'evaluate';
      /** Frame store key: the frame hash plus the frame id (two ids may share pixels but not truth). */
      readonly key: string;
      readonly id: string;
      readonly knobs: KnobValues;
      /** Sent the first time this worker sees the key (and again after a 'missing' answer). */
      readonly frame?: Frame;
      readonly truth?: LabelImage;
    }
  | { readonly type: 'stats' };

export type EvalWorkerResponse =
  | { readonly type: 'evaluation'; readonly evaluation: FrameEvaluation }
  | { readonly type: 'missing' }
  | { readonly type: 'stats'; readonly frames: number; readonly decoderRuns: number; readonly evaluations: number };

interface Stored {
  readonly frame: Frame;
  readonly truth?: LabelImage;
}

serveWorker<EvalWorkerRequest, EvalWorkerResponse, EvalWorkerReady>(async (data) => {
  const { segmenter: spec, reward: rewardConfig, frameCacheBytes } = data as EvalWorkerData;
  const segmenter = await createSegmenter(spec);
  const reward = rewardFromConfig(rewardConfig);
  const frames = new LruCache<Stored>(frameCacheBytes ?? 2 ** 30, (s) => s.frame.pixels.byteLength + (s.frame.grey !== s.frame.pixels ? s.frame.grey.byteLength : 0) + (s.truth?.data.byteLength ?? 0));
  // Count model runs (for tests and stats): wrap the decoder session's run when there is one.
  let decoderRuns = 0;
  const model = (segmenter as { model?: { decoder?: { run?: (...args: unknown[]) => unknown } } }).model;
  if (model?.decoder?.run) {
    const original = model.decoder.run.bind(model.decoder);
    model.decoder.run = (...args: unknown[]) => {
      decoderRuns++;
      return original(...args);
    };
  }
  let evaluations = 0;
  return {
    ready: { name: segmenter.name, knobs: [...segmenter.knobs.specs] },
    handle: async (request) => {
      if (request.type === 'stats') return { type: 'stats', frames: frames.size, decoderRuns, evaluations };
      let stored = request.frame ? undefined : frames.get(request.key);
      if (request.frame) {
        stored = { frame: request.frame, truth: request.truth };
        frames.set(request.key, stored);
      }
      if (!stored) return { type: 'missing' };
      evaluations++;
      const evaluation = await evaluateFrame(segmenter, reward, { id: request.id, frame: stored.frame, truth: stored.truth }, request.knobs);
      return { type: 'evaluation', evaluation };
    },
  };
});
