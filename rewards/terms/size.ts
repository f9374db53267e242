import { z } from 'zod';
import { SamstarError } from '../../src/util/errors.js';
import { pixelSizeSchema } from '../../src/util/units.js';
import {
  histogramDistribution,
  kolmogorovSmirnov,
  lognormalDistribution,
  normalDistribution,
  wasserstein1,
  type Distribution,
} from '../distributions.js';
import { excludeBorder } from '../schema-parts.js';
import { defineTerm, type RewardInput } from '../types.js';

/**
 * Size distribution match: how close the distribution of instance sizes is to the expected one.
 * Wasserstein-1: score = exp(−W1 / (tolerance · target mean)); KS: score = 1 − D.
 * Range [0, 1], higher is better; 0 with no instance to measure.
 */
const target = z.discriminatedUnion('distribution', [
  z.strictObject({
    distribution: z.literal('lognormal'),
    median: z.number().positive('must be > 0'),
    /** Standard deviation of ln(size). */
    sigma: z.number().positive('spread must be > 0'),
  }),
  z.strictObject({
    distribution: z.literal('normal'),
    mean: z.number().positive('must be > 0'),
    sd: z.number().positive('spread must be > 0'),
  }),
  z
    .strictObject({
      distribution: z.literal('histogram'),
      /** Bin edges, strictly increasing. */
      edges: z.array(z.number()).min(2, 'needs at least two edges'),
      /** Relative frequency of each bin (edges.length − 1 values, not all 0). */
      weights: z.array(z.number().nonnegative('must be ≥ 0')),
    })
    .superRefine((t, ctx) => {
      if (t.weights.length !== t.edges.length - 1) {
        ctx.addIssue({ code: 'custom', path: ['weights'], message: `needs ${t.edges.length - 1} values (one per bin), got ${t.weights.length}` });
      }
      for (let i = 1; i < t.edges.length; i++) {
        if (!(t.edges[i] > t.edges[i - 1])) {
          ctx.addIssue({ code: 'custom', path: ['edges', i], message: `edges must increase strictly (${t.edges[i - 1]} then ${t.edges[i]})` });
          break;
        }
      }
      if (t.weights.every((w) => w === 0)) ctx.addIssue({ code: 'custom', path: ['weights'], message: 'weights are all 0' });
      if (t.edges[0] < 0) ctx.addIssue({ code: 'custom', path: ['edges', 0], message: 'sizes cannot be negative' });
    }),
]);

const schema = z
  .strictObject({
    /** Which size: equivalent diameter (default), area, or an axis length. */
    property: z.enum(['equivalent_diameter', 'area', 'major_axis_length', 'minor_axis_length']).default('equivalent_diameter'),
    target,
    /** Units of the target: pixels, or nm / µm (areas nm² / µm²) with `pixel_size`. */
    unit: z.enum(['px', 'nm', 'um']).default('px'),
    /** Pixel size: a bare number is nm per pixel; "0.65um" or { value, unit } name the unit. */
    pixel_size: pixelSizeSchema.optional(),
    distance: z.enum(['wasserstein', 'ks']).default('wasserstein'),
    /** Relative W1 (fraction of the target mean) at which the score is e⁻¹. */
    tolerance: z.number().positive('must be > 0').default(0.25),
    exclude_border: excludeBorder,
  })
  .superRefine((c, ctx) => {
    if (c.unit !== 'px' && c.pixel_size === undefined) {
      ctx.addIssue({ code: 'custom', path: ['pixel_size'], message: `is required when unit is ${c.unit} (the size of a pixel, e.g. 650 for nm or "0.65um")` });
    }
  });

export type SizeConfig = z.infer<typeof schema>;

const distributions = new WeakMap<object, Distribution>();

function distributionOf(config: SizeConfig): Distribution {
  let d = distributions.get(config.target);
  if (!d) {
    const t = config.target;
    d =
      t.distribution === 'lognormal'
        ? lognormalDistribution(t.median, t.sigma)
        : t.distribution === 'normal'
          ? normalDistribution(t.mean, t.sd)
          : histogramDistribution(t.edges, t.weights);
    distributions.set(config.target, d);
  }
  return d;
}

export function sizeReward(input: RewardInput, config: SizeConfig): number {
  const scale = config.unit === 'nm' ? config.pixel_size! : config.unit === 'um' ? config.pixel_size! / 1000 : 1;
  const factor = config.property === 'area' ? scale * scale : scale;
  const sample: number[] = [];
  for (const m of input.measurements.instances) {
    if (config.exclude_border && m.touches_border) continue;
    sample.push(m[config.property] * factor);
  }
  if (sample.length === 0) return 0;
  const target = distributionOf(config);
  if (config.distance === 'ks') return 1 - kolmogorovSmirnov(sample, target);
  const w1 = wasserstein1(sample, target);
  if (!Number.isFinite(w1)) throw new SamstarError('CONFIG_INVALID', `size reward: the Wasserstein distance is ${w1}`);
  return Math.exp(-w1 / (config.tolerance * target.mean));
}

export const size = defineTerm({
  type: 'size',
  summary: 'size distribution vs a target (log-normal, normal or histogram; px or nm)',
  schema,
  example: { target: { distribution: 'lognormal', median: 16, sigma: 0.2 } },
  range: [0, 1],
  better: 'higher',
  needs: {},
  compute: sizeReward,
});
