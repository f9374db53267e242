import { z } from 'zod';
import { pixelSizeSchema } from '../../src/util/units.js';
import { defineTerm, type RewardInput } from '../types.js';

/**
 * Expected count or density: score = max(0, 1 − |N − N_expected| / (tolerance · N_expected)),
 * with N_expected given directly, per 10⁶ pixels, or per µm² (with the pixel size in nm).
 * Range [0, 1], higher is better; an empty segmentation scores 0 whatever the tolerance.
 */
const schema = z
  .strictObject({
    expected_count: z.number().positive('must be > 0').optional(),
    expected_per_megapixel: z.number().positive('must be > 0').optional(),
    expected_per_um2: z.number().positive('must be > 0').optional(),
    /** Pixel size, needed with expected_per_um2: a bare number is nm per pixel; "0.65um" or { value, unit } name the unit. */
    pixel_size: pixelSizeSchema.optional(),
    /** Relative count error at which the score reaches 0. */
    tolerance: z.number().positive('must be > 0').default(1),
  })
  .superRefine((c, ctx) => {
    const given = [c.expected_count, c.expected_per_megapixel, c.expected_per_um2].filter((v) => v !== undefined).length;
    if (given !== 1) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of expected_count, expected_per_megapixel, expected_per_um2' });
    }
    if (c.expected_per_um2 !== undefined && c.pixel_size === undefined) {
      ctx.addIssue({ code: 'custom', path: ['pixel_size'], message: 'is required with expected_per_um2 (e.g. 650 for nm per pixel, or "0.65um")' });
    }
  });

export type CountConfig = z.infer<typeof schema>;

export function expectedCount(config: CountConfig, width: number, height: number): number {
  if (config.expected_count !== undefined) return config.expected_count;
  if (config.expected_per_megapixel !== undefined) return (config.expected_per_megapixel * width * height) / 1e6;
  const umPerPixel = config.pixel_size! / 1000;
  return config.expected_per_um2! * width * height * umPerPixel * umPerPixel;
}

export function countReward(input: RewardInput, config: CountConfig): number {
  const { count, width, height } = input.measurements.frame;
  if (count === 0) return 0;
  const expected = expectedCount(config, width, height);
  return Math.max(0, 1 - Math.abs(count - expected) / (config.tolerance * expected));
}

export const count = defineTerm({
  type: 'count',
  summary: 'instance count (or density) vs the expected one',
  schema,
  example: { expected_count: 40 },
  range: [0, 1],
  better: 'higher',
  needs: {},
  compute: countReward,
});
