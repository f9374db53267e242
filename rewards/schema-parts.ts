import { z } from 'zod';
import type { BoxMatchOptions } from '../src/measure/boxes.js';

/** Config pieces shared by several terms. z.number() already refuses NaN and ±Infinity. */

/** A fraction in (0, 1]: IoU thresholds. */
export const iouThreshold = z.number().gt(0, 'must be > 0').max(1, 'must be ≤ 1');

/** How predictions are matched to boxes when the truth is boxes. */
export const boxMatchSchema = z
  .discriminatedUnion('match', [
    z.strictObject({
      match: z.literal('center'),
      /** Centre distance, as a multiple of the box's mean half-size. */
      max_distance: z.number().positive('must be > 0').default(0.5),
    }),
    z.strictObject({
      match: z.literal('box_iou'),
      min_iou: iouThreshold.default(0.5),
    }),
  ])
  .default({ match: 'center', max_distance: 0.5 });

export type BoxMatchConfig = z.infer<typeof boxMatchSchema>;

export function toBoxMatchOptions(config: BoxMatchConfig, diameter: 'box' | 'equivalent' = 'box'): BoxMatchOptions {
  return config.match === 'center'
    ? { match: 'center', maxDistance: config.max_distance, diameter }
    : { match: 'box_iou', minIou: config.min_iou, diameter };
}

/** Instances measured by a term: optionally without those cut by the frame edge. */
export const excludeBorder = z.boolean().default(true);
