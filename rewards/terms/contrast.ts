import { z } from 'zod';
import { greyQuantile } from '../../src/measure/frame-stats.js';
import { SamstarError } from '../../src/util/errors.js';
import { defineTerm, type RewardInput } from '../types.js';

/**
 * Inside-vs-ring contrast: per instance, (mean inside − mean of the ring just outside), signed by
 * the expected polarity (bright particles: +, dark: −, either: absolute value), divided by
 * `scale` × the frame's intensity range (99th − 1st percentile of grey), clipped to [0, 1]; the
 * term is the mean over instances. Masks on empty background score ≈ 0.
 * Range [0, 1], higher is better; 0 for an empty segmentation or a flat image.
 */
const schema = z.strictObject({
  polarity: z.enum(['either', 'bright', 'dark']).default('either'),
  /** Fraction of the frame's intensity range that counts as full contrast. */
  scale: z.number().positive('must be > 0').max(1, 'must be ≤ 1').default(0.25),
});

export type ContrastConfig = z.infer<typeof schema>;

export function contrastReward(input: RewardInput, config: ContrastConfig): number {
  const { instances } = input.measurements;
  if (!input.frame) throw new SamstarError('ARGUMENT_INVALID', 'the contrast reward needs the image');
  if (instances.length === 0) return 0;
  const range = greyQuantile(input.frame.grey, 0.99) - greyQuantile(input.frame.grey, 0.01);
  if (!(range > 1e-9)) return 0;
  const full = config.scale * range;
  let sum = 0;
  for (const m of instances) {
    const c = m.intensity_contrast;
    if (c === undefined) {
      throw new SamstarError('ARGUMENT_INVALID', 'the contrast reward needs ring measurements: measure with the image and ring: true');
    }
    const signed = config.polarity === 'bright' ? c : config.polarity === 'dark' ? -c : Math.abs(c);
    sum += Math.min(1, Math.max(0, signed / full));
  }
  return sum / instances.length;
}

export const contrast = defineTerm({
  type: 'contrast',
  summary: 'intensity contrast between each mask and the ring just outside it',
  schema,
  range: [0, 1],
  better: 'higher',
  needs: { frame: true, ring: true },
  compute: contrastReward,
});
