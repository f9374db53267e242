import { z } from 'zod';
import { configError } from '../util/config-error.js';

/**
 * What travels through Redis between a study (the coordinator) and
 * `samstar worker`s: the names of queues and keys, and the zod schemas of a
 * job and of its result. Workers parse every job with `parseJob` (unknown
 * types, unknown keys and wrong values are rejected with the field's path);
 * coordinators parse every result with `resultSchema`.
 *
 * Queues: each worker consumes its own BullMQ queue (`queueOf(id)`), which is
 * how a frame's jobs reach the worker holding its caches (frame affinity; the
 * coordinator pins frames to live workers). Keys, under the namespace `ns`:
 *   ns:workers           set of worker ids that announced themselves
 *   ns:worker:<id>       heartbeat: JSON WorkerInfo, expires after the lease
 *   ns:frame:<hash>      a frame's bytes (frames.ts), expires after a day
 *   ns:truth:<sha256>    a label image's bytes
 */
export const PROTOCOL_VERSION = 1;
export const DEFAULT_NAMESPACE = 'samstar';

export const keys = {
  workers: (ns: string) => `${ns}:workers`,
  worker: (ns: string, id: string) => `${ns}:worker:${id}`,
  frame: (ns: string, hash: string) => `${ns}:frame:${hash}`,
  truth: (ns: string, sha: string) => `${ns}:truth:${sha}`,
};

/** The BullMQ queue of one worker. */
export function queueOf(workerId: string): string {
  return `eval-${workerId}`;
}

/** What a worker announces in its heartbeat. */
export interface WorkerInfo {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly started: string;
  readonly threads?: number;
  /** Jobs finished, failed (incl. rejected) and rejected as malformed, since start. */
  readonly done: number;
  readonly failed: number;
  readonly rejected: number;
  /** A job is in flight. */
  readonly busy: boolean;
}

const hex = z.string().regex(/^[0-9a-f]{16,128}$/, 'must be a lower-case hex digest');
/** Paths in jobs are relative to the worker's --data-root (checked again against the root when read). */
const relativePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.includes('\0'), 'must not contain NUL');

const knobValue = z.union([z.number().finite(), z.string().max(200)]);

/** How the worker builds the segmenter: a registered name, and for model segmenters the model. */
export const segmenterWireSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be a segmenter name'),
  model: z
    .union([z.strictObject({ bundled: z.enum(['learned', 'reference']) }), z.strictObject({ encoder: relativePath, decoder: relativePath })])
    .optional(),
});
export type SegmenterWire = z.infer<typeof segmenterWireSchema>;

/** Where the frame comes from: bytes in Redis (by content hash), or a file under the worker's data root. */
const frameRefSchema = z.union([
  z.strictObject({ bytes: hex }),
  z.strictObject({ path: relativePath }),
]);

export const evaluateJobSchema = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  type: z.literal('evaluate'),
  /** The frame id the records use. */
  id: z.string().min(1).max(1024),
  /** The frame's content hash (a worker checks a frame read from a path against it). */
  hash: hex,
  frame: frameRefSchema,
  /** sha256 of the label image in Redis, when the reward needs truth. */
  truth: hex.optional(),
  knobs: z.record(z.string().max(100), knobValue),
  segmenter: segmenterWireSchema,
  /** The reward in its config-file form: the worker validates it with the reward config's own schemas. Absent: segment only. */
  reward: z.record(z.string(), z.unknown()).optional(),
  /** Return the segmentation itself too (instances as RLE, knobs, timings): what `watch --redis` writes. */
  records: z.boolean().optional(),
})
  .refine((job) => job.reward !== undefined || job.records === true, { message: 'a job without a reward must ask for records', path: ['reward'] });
export type EvaluateJob = z.infer<typeof evaluateJobSchema>;

/** Validate a job's data; a CONFIG_INVALID error naming each wrong field otherwise. */
export function parseJob(data: unknown): EvaluateJob {
  const result = evaluateJobSchema.safeParse(data);
  if (!result.success) {
    throw configError(result.error.issues, {
      title: 'malformed job',
      schema: evaluateJobSchema,
      data,
      hint: 'the coordinator and the worker must run the same samstar version',
    });
  }
  return result.data;
}

const evaluationSchema = z.strictObject({
  frame: z.string(),
  total: z.number(),
  terms: z.record(z.string(), z.number()),
  objectives: z.array(z.number()).optional(),
  count: z.number().int().nonnegative(),
  ms: z.number(),
  segmentMs: z.number(),
  rewardMs: z.number(),
});

const segmentationSchema = z.object({
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  instances: z.array(z.record(z.string(), z.unknown())),
  knobs: z.record(z.string(), z.union([z.number(), z.string()])),
  // JSON turns a non-finite number (a rate over 0 ms) into null.
  timings: z.record(z.string(), z.number().nullable()),
  stats: z.record(z.string(), z.number().nullable()).optional(),
});

export const resultSchema = z.strictObject({
  /** The reward terms (jobs with a reward). */
  evaluation: evaluationSchema.optional(),
  worker: z.string(),
  /** The frame was already in the worker's frame cache. */
  cached: z.boolean(),
  /** The segmentation (jobs that asked for records), as plain data. */
  segmentation: segmentationSchema.optional(),
});
export type JobResult = z.infer<typeof resultSchema>;
