import { z } from 'zod';
import type { InstanceMeasurement } from '../../src/measure/types.js';
import { excludeBorder } from '../schema-parts.js';
import { defineTerm, type RewardInput } from '../types.js';

/**
 * Shape fidelity: per instance, each constrained property scores 1 inside [min, max]; outside,
 * 0 (mode fraction) or exp(−(distance / softness)²) (mode smooth). An instance's score is the
 * product over the properties; the term is the mean over instances.
 * Range [0, 1], higher is better; 0 with no instance.
 */
const bound = (defaultSoftness: number) =>
  z
    .strictObject({
      min: z.number().optional(),
      max: z.number().optional(),
      /** Distance outside the bounds at which the smooth score falls to e⁻¹. */
      softness: z.number().positive('must be > 0').default(defaultSoftness),
    })
    .superRefine((b, ctx) => {
      if (b.min === undefined && b.max === undefined) ctx.addIssue({ code: 'custom', message: 'give min, max or both' });
      if (b.min !== undefined && b.max !== undefined && b.min > b.max) {
        ctx.addIssue({ code: 'custom', path: ['max'], message: `max (${b.max}) is below min (${b.min})` });
      }
    });

const PROPERTIES = ['circularity', 'solidity', 'aspect_ratio', 'eccentricity'] as const;

const schema = z
  .strictObject({
    circularity: bound(0.1).optional(),
    solidity: bound(0.05).optional(),
    aspect_ratio: bound(0.5).optional(),
    eccentricity: bound(0.1).optional(),
    mode: z.enum(['smooth', 'fraction']).default('smooth'),
    exclude_border: excludeBorder,
  })
  .superRefine((c, ctx) => {
    if (PROPERTIES.every((p) => c[p] === undefined)) {
      ctx.addIssue({ code: 'custom', message: `constrain at least one of ${PROPERTIES.join(', ')}` });
    }
  });

export type ShapeConfig = z.infer<typeof schema>;
type Bound = NonNullable<ShapeConfig['circularity']>;

function propertyScore(value: number, b: Bound, smooth: boolean): number {
  const below = b.min !== undefined ? b.min - value : 0;
  const above = b.max !== undefined ? value - b.max : 0;
  const distance = Math.max(0, below, above);
  if (distance === 0) return 1;
  return smooth ? Math.exp(-((distance / b.softness) ** 2)) : 0;
}

export function instanceShapeScore(m: InstanceMeasurement, config: ShapeConfig): number {
  const smooth = config.mode === 'smooth';
  let score = 1;
  for (const p of PROPERTIES) {
    const b = config[p];
    if (b) score *= propertyScore(m[p], b, smooth);
  }
  return score;
}

export function shapeReward(input: RewardInput, config: ShapeConfig): number {
  let sum = 0;
  let n = 0;
  for (const m of input.measurements.instances) {
    if (config.exclude_border && m.touches_border) continue;
    sum += instanceShapeScore(m, config);
    n++;
  }
  return n > 0 ? sum / n : 0;
}

export const shape = defineTerm({
  type: 'shape',
  summary: 'circularity / solidity / aspect ratio / eccentricity within bounds',
  schema,
  example: { solidity: { min: 0.9 }, aspect_ratio: { max: 2 } },
  range: [0, 1],
  better: 'higher',
  needs: {},
  compute: shapeReward,
});
