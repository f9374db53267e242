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
 *
 * A log-normal target with `median: auto` takes each frame's own median size, and its σ is the
 * widest spread expected (a narrower frame is not penalised), so only excess spread is scored: the
 * fit for image series whose magnification (or particle size) varies from frame to frame, where no
 * fixed median fits. W1 and the tolerance both scale with the median, so the score does not depend
 * on the scale at all.
 */
const target = z.discriminatedUnion('distribution', [
  z.strictObject({
    distribution: z.literal('lognormal'),
    /** Expected median size, or `auto`: each frame's own median (the spread alone is scored). */
    median: z.union([z.number().positive('must be > 0'), z.literal('auto')]),
    /** Standard deviation of ln(size); with `median: auto`, the widest spread that costs nothing. */
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

/** Median of a sample; for an even count the geometric mean of the middle two, symmetric on the log scale. */
function sampleMedian(sample: readonly number[]): number {
  const x = [...sample].sort((a, b) => a - b);
  const mid = x.length >> 1;
  return x.length % 2 === 1 ? x[mid] : Math.sqrt(x[mid - 1] * x[mid]);
}

/** Standard deviation of ln(x): the log-normal's σ fitted to the sample. */
function logSpread(sample: readonly number[]): number {
  const logs = sample.map(Math.log);
  const mean = logs.reduce((a, b) => a + b, 0) / logs.length;
  return Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / logs.length);
}

/** A single size (σ = 0) would make the log-normal degenerate; this narrow is indistinguishable from it. */
const MIN_SIGMA = 1e-6;

/** True for a size target that follows each frame's own median (`median: auto`); also read by the report. */
export function followsFrameMedian(target: { readonly distribution: string; readonly median?: unknown }): boolean {
  return target.distribution === 'lognormal' && target.median === 'auto';
}

/** The target for this sample; null when a `median: auto` target has nothing to centre on (every size 0). */
function distributionOf(config: SizeConfig, sample: readonly number[]): Distribution | null {
  const t = config.target;
  // A frame's own median: a new target per frame (cheap: closed forms only), never cached.
  if (t.distribution === 'lognormal' && followsFrameMedian(t)) {
    // σ is the widest spread expected, not a spread required: a frame that is narrower (one
    // particle size, as in a monodisperse synthesis) is compared with a log-normal of its own
    // spread, so only a wider spread (fragments, merged pairs, background specks) costs.
    // Fitted to the positive sizes (a one-pixel-wide line has minor axis 0); a 0 left in the sample
    // is then simply far below the target.
    const positive = sample.filter((x) => x > 0);
    if (positive.length === 0) return null;
    return lognormalDistribution(sampleMedian(positive), Math.max(Math.min(t.sigma, logSpread(positive)), MIN_SIGMA));
  }
  let d = distributions.get(t);
  if (!d) {
    d =
      t.distribution === 'lognormal'
        ? lognormalDistribution(t.median as number, t.sigma)
        : t.distribution === 'normal'
          ? normalDistribution(t.mean, t.sd)
          : histogramDistribution(t.edges, t.weights);
    distributions.set(t, d);
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
  const target = distributionOf(config, sample);
  if (target === null) return 0;
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
