import { z } from 'zod';
import { SamstarError } from '../util/errors.js';
import { configError } from '../util/config-error.js';

/**
 * Options of the synthetic microscopy generator. Intensities are fractions of
 * the full scale (0–1); lengths are pixels. Every default is a plausible
 * fluorescence-nuclei frame, so `{}` is a valid request.
 */
const range = (low: number, high: number) => z.tuple([z.number().min(low).max(high), z.number().min(low).max(high)]);

export const SynthFrameSchema = z.strictObject({
  width: z.number().int().min(8).max(16384).default(512),
  height: z.number().int().min(8).max(16384).default(512),
  /** Number of particles requested (default 50 when neither count nor density is given). */
  count: z.number().int().min(0).max(1_000_000).optional(),
  /** Particles per 10 000 px² (a 100×100 patch); alternative to count. */
  density: z.number().min(0).optional(),
  /** Log-normal equivalent-circle diameter: median (px) and sigma of ln(diameter); never below `min`. */
  diameter: z
    .strictObject({
      median: z.number().positive().default(16),
      sigma: z.number().min(0).max(2).default(0.25),
      min: z.number().min(1).default(3),
    })
    .prefault({}),
  /** A `fraction` of the particles are elongated with aspect ratio in `aspect`; the rest are near-round (`roundAspect`). */
  elongation: z
    .strictObject({
      fraction: z.number().min(0).max(1).default(0.25),
      aspect: range(1, 20).default([1.6, 3]),
      roundAspect: range(1, 20).default([1, 1.2]),
    })
    .prefault({}),
  /** Minimum number of background pixels between two particles along a row or column (0 allows touching, never overlap). */
  gap: z.number().min(0).max(64).default(2),
  polarity: z.enum(['bright', 'dark']).default('bright'),
  /** Mean background level; default 0.1 for bright particles (fluorescence), 0.75 for dark (bright field). */
  background: z.number().min(0).max(1).optional(),
  /** Particle signal above (bright) or below (dark) the background. */
  contrast: z.number().min(0).max(1).default(0.5),
  /** sigma of ln(per-particle brightness factor): cells are not equally bright. */
  brightnessSpread: z.number().min(0).max(2).default(0.15),
  /** flat: uniform interior (nuclei); dome: projected-sphere profile (nanoparticles in HAADF/TEM). */
  shading: z.enum(['flat', 'dome']).default('flat'),
  /** Amplitude of the smooth background variation (gradient + broad bumps). */
  unevenness: z.number().min(0).max(1).default(0.05),
  /**
   * Large unlabelled structures the particles lie on or beside (a cell body, an embryo, the thick part
   * of a support film): soft-edged ellipses with the particles' polarity, part of the background.
   * Why: a click on a small nucleus packed on a bright body must give the nucleus, not the body.
   */
  bodies: z
    .strictObject({
      count: z.number().int().min(0).max(64).default(0),
      /** Long diameter as a fraction of the frame's short side, drawn uniformly from [low, high]. */
      size: range(0.05, 2).default([0.3, 0.7]),
      /** Signal of a body's interior, with the particles' sign, as a fraction of full scale. */
      contrast: z.number().min(0).max(1).default(0.25),
    })
    .prefault({}),
  /** Gaussian blur sigma in px (optics), applied to the signal before noise. */
  blur: z.number().min(0).max(64).default(1),
  noise: z
    .strictObject({
      /** Expected photons at full scale: shot noise is Poisson(signal·photons)/photons. 0 = no shot noise. */
      photons: z.number().min(0).default(400),
      /** Gaussian read noise, standard deviation as a fraction of full scale. */
      read: z.number().min(0).max(1).default(0.01),
    })
    .prefault({}),
  bitDepth: z.union([z.literal(8), z.literal(16)]).default(8),
  /** The sample value of intensity 1.0 (default 255 / 65535; e.g. 4095 mimics a 12-bit camera in 16-bit files). */
  fullScale: z.number().int().min(1).max(65535).optional(),
  /** Placement tries per particle before giving up on it (crowded frames place fewer than requested). */
  attempts: z.number().int().min(1).max(100_000).default(200),
});

export const DriftSchema = z.strictObject({
  /** Median diameter at the last frame (start: diameter.median). */
  diameter: z.number().positive().optional(),
  /** Contrast at the last frame (start: contrast). */
  contrast: z.number().min(0).max(1).optional(),
  /** Particles per frame at the last frame (start: count; needs `count`), rounded per frame: e.g. ripening, where particles grow and their number falls. */
  count: z.number().int().min(0).optional(),
  /** linear: straight from start to end; sine: (1 − cos(π·cycles·t))/2, smooth, and back again for even cycles. */
  profile: z.enum(['linear', 'sine']).default('linear'),
  cycles: z.number().positive().max(1000).default(1),
});

export const SynthSeriesSchema = SynthFrameSchema.extend({
  frames: z.number().int().min(1).max(100_000).default(1),
  drift: DriftSchema.optional(),
});

export type SynthFrameOptionsInput = z.input<typeof SynthFrameSchema>;
export type SynthFrameOptions = z.output<typeof SynthFrameSchema>;
export type SynthSeriesOptionsInput = z.input<typeof SynthSeriesSchema>;
export type SynthSeriesOptions = z.output<typeof SynthSeriesSchema>;
export type DriftOptions = z.output<typeof DriftSchema>;

export function parseSynthFrameOptions(input: unknown): SynthFrameOptions {
  return checkCombined(parseWith(SynthFrameSchema, input));
}

export function parseSynthSeriesOptions(input: unknown): SynthSeriesOptions {
  const options = checkCombined(parseWith(SynthSeriesSchema, input));
  if (options.drift?.count !== undefined && options.count === undefined) {
    throw new SamstarError('CONFIG_INVALID', `synth options: "drift.count" (${options.drift.count}) needs a starting "count"${options.density !== undefined ? ` (the frames are set by "density" ${options.density})` : ''}`, {
      hint: 'set count (particles in the first frame) together with drift.count (particles in the last frame)',
    });
  }
  return options;
}

/** Particles to place: count, else density·area/10⁴, else 50. */
export function requestedCount(options: SynthFrameOptions): number {
  if (options.count !== undefined) return options.count;
  if (options.density !== undefined) return Math.round((options.density * options.width * options.height) / 10_000);
  return 50;
}

export function backgroundLevel(options: SynthFrameOptions): number {
  return options.background ?? (options.polarity === 'bright' ? 0.1 : 0.75);
}

export function fullScaleOf(options: SynthFrameOptions): number {
  return options.fullScale ?? (options.bitDepth === 8 ? 255 : 65535);
}

/** Position of frame i of n along the drift, 0 at the first frame and 1 at the end of the profile. */
export function driftFraction(drift: DriftOptions, index: number, frames: number): number {
  const t = frames > 1 ? index / (frames - 1) : 0;
  return drift.profile === 'linear' ? t : (1 - Math.cos(Math.PI * drift.cycles * t)) / 2;
}

/** The frame options of frame i of a series: drifting values interpolated, the series-only keys removed. */
export function frameOptionsAt(options: SynthSeriesOptions, index: number): SynthFrameOptions {
  const { frames, drift, ...frame } = options;
  if (!drift) return frame;
  const f = driftFraction(drift, index, frames);
  const lerp = (start: number, end: number | undefined) => (end === undefined ? start : start + (end - start) * f);
  return {
    ...frame,
    diameter: { ...frame.diameter, median: lerp(frame.diameter.median, drift.diameter) },
    contrast: lerp(frame.contrast, drift.contrast),
    ...(drift.count === undefined || frame.count === undefined ? {} : { count: Math.round(lerp(frame.count, drift.count)) }),
  };
}

function checkCombined<T extends SynthFrameOptions>(options: T): T {
  if (options.count !== undefined && options.density !== undefined) {
    throw new SamstarError('CONFIG_INVALID', `synth options: both "count" (${options.count}) and "density" (${options.density}) are set; expected one of them`, {
      hint: 'count = particles per frame; density = particles per 10 000 px²',
    });
  }
  const full = fullScaleOf(options);
  const max = options.bitDepth === 8 ? 255 : 65535;
  if (full > max) {
    throw new SamstarError('CONFIG_INVALID', `synth options: "fullScale" ${full} does not fit ${options.bitDepth}-bit samples (at most ${max})`);
  }
  const [bodyLow, bodyHigh] = options.bodies.size;
  if (bodyLow > bodyHigh) {
    throw new SamstarError('CONFIG_INVALID', `synth options: "bodies.size" [${bodyLow}, ${bodyHigh}] has low > high; expected [low, high]`);
  }
  for (const key of ['aspect', 'roundAspect'] as const) {
    const [lo, hi] = options.elongation[key];
    if (lo > hi) {
      throw new SamstarError('CONFIG_INVALID', `synth options: "elongation.${key}" [${lo}, ${hi}] has low > high; expected [low, high]`);
    }
  }
  return options;
}

/** Parse with zod; problems become one CONFIG_INVALID error naming each option path and the value found. */
function parseWith<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  throw configError(result.error.issues, { title: 'synth options: invalid', schema, data: input });
}
