import { z } from 'zod';
import { BlobDetector } from '../../src/image/blob-detector.js';
import { SamstarError } from '../../src/util/errors.js';
import { defineTerm, type RewardInput } from '../types.js';

/**
 * Agreement with an independent particle detector, without labels: the scale-normalised LoG blobs
 * of the image (σ range, noise-relative threshold and polarity in the config) against the masks'
 * centroids. A blob and an instance match when the centroid lies within `match_radius` blob radii
 * of the blob centre (pairs taken nearest first, each used once); the term is the detection F1
 * 2·matched / (blobs + instances). It punishes masks where the detector sees no particle (junk,
 * halves of a split particle) and particles without a mask (missed, merged), whatever their size,
 * so it needs no size target on a stream whose sizes drift. Range [0, 1], higher is better; an
 * empty segmentation scores 0 (1 when the detector finds nothing either).
 *
 * The LoG runs once per frame and detector setting (cached: a tuning run scores each frame many times).
 */
const schema = z.strictObject({
  sigma_min: z.number().positive('must be > 0').default(1.5),
  sigma_max: z.number().positive('must be > 0').default(12),
  sigma_steps: z.number().int('must be a whole number').min(1, 'must be ≥ 1').default(8),
  /** Minimum LoG response in multiples of the image noise σ. */
  threshold: z.number().min(1, 'must be ≥ 1 (noise σ)').default(4),
  overlap: z.number().min(0, 'must be ≥ 0').max(1, 'must be ≤ 1').default(0.5),
  polarity: z.enum(['bright', 'dark', 'both']).default('bright'),
  /** How far a centroid may sit from the blob centre, in blob radii (√2·σ). */
  match_radius: z.number().positive('must be > 0').default(1),
});

export type BlobsConfig = z.infer<typeof schema>;

const detector = new BlobDetector(1, 64 * 2 ** 20);

export function blobsReward(input: RewardInput, config: BlobsConfig): number {
  if (!input.frame) throw new SamstarError('ARGUMENT_INVALID', 'the blobs reward needs the image');
  if (config.sigma_max < config.sigma_min) throw new SamstarError('CONFIG_INVALID', `blobs reward: sigma_max ${config.sigma_max} is below sigma_min ${config.sigma_min}`);
  const blobs = detector.detect(input.frame, {
    sigmaMin: config.sigma_min,
    sigmaMax: config.sigma_max,
    sigmaSteps: config.sigma_steps,
    threshold: config.threshold,
    thresholdMode: 'noise',
    overlap: config.overlap,
    polarity: config.polarity,
    border: 0,
  });
  const instances = input.measurements.instances;
  if (instances.length === 0) return blobs.length === 0 ? 1 : 0;
  const pairs: { d: number; b: number; i: number }[] = [];
  blobs.forEach((blob, b) => {
    const reach = config.match_radius * Math.max(blob.radius, 1.5);
    instances.forEach((m, i) => {
      const d = Math.hypot(m.centroid[1] - blob.x, m.centroid[0] - blob.y);
      if (d <= reach) pairs.push({ d, b, i });
    });
  });
  pairs.sort((p, q) => p.d - q.d || p.b - q.b || p.i - q.i);
  const blobUsed = new Uint8Array(blobs.length);
  const instanceUsed = new Uint8Array(instances.length);
  let matched = 0;
  for (const { b, i } of pairs) {
    if (blobUsed[b] || instanceUsed[i]) continue;
    blobUsed[b] = 1;
    instanceUsed[i] = 1;
    matched++;
  }
  return (2 * matched) / (blobs.length + instances.length);
}

export const blobs = defineTerm({
  type: 'blobs',
  summary: 'detection F1 of the mask centroids against LoG blobs of the image (no labels)',
  schema,
  range: [0, 1],
  better: 'higher',
  needs: { frame: true },
  compute: blobsReward,
});
