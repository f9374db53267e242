import type { Frame } from '../image/frame.js';
import { gaussianBlur } from '../image/blur.js';
import { frameFromPixels } from '../image/from-pixels.js';
import type { LabelImage } from '../masks/types.js';
import type { Rng } from '../util/rng.js';
import { samplePoisson } from './poisson.js';
import { bodyField, unevenField } from './synth-background.js';
import {
  backgroundLevel,
  frameOptionsAt,
  fullScaleOf,
  parseSynthFrameOptions,
  parseSynthSeriesOptions,
  requestedCount,
  type SynthFrameOptions,
  type SynthFrameOptionsInput,
  type SynthSeriesOptionsInput,
} from './synth-options.js';
import { placeParticles, sampleShapes, type SynthParticle } from './synth-shapes.js';

export type { SynthParticle } from './synth-shapes.js';

/**
 * Synthetic microscopy frames with exact instance ground truth: particles
 * (round and rod-like ellipses, log-normal sizes) on an uneven background,
 * optionally with large unlabelled bodies (cells, an embryo) under them,
 * blurred by the optics and degraded by Poisson–Gaussian camera noise.
 * Everything random comes from the Rng passed in.
 */
export interface SynthFrame {
  /** The frame as `loadFrame` would give it from the written PNG (same pixels, same hash). */
  frame: Frame;
  /** Instance labels 1..n (0 = background), n = particles.length. */
  labels: LabelImage;
  /** Placed particles; particles[i].label = i + 1. */
  particles: SynthParticle[];
  /** Particles asked for; more than placed when the frame is too crowded. */
  requested: number;
  /** The stored samples (8- or 16-bit grey), what an image file of this frame holds. */
  samples: Uint8Array | Uint16Array;
  /** The options this frame was drawn with (defaults filled in, drift applied). */
  options: SynthFrameOptions;
}

/**
 * One frame. Three sub-generators are forked up front (layout, appearance,
 * noise) so that, for one seed, changing only the noise or the background
 * options keeps the particles where they were: studies can vary one factor.
 */
export function generateSynthFrame(options: SynthFrameOptionsInput, rng: Rng, source = 'synth'): SynthFrame {
  const o = parseSynthFrameOptions(options);
  const layoutRng = rng.fork();
  const lookRng = rng.fork();
  const noiseRng = rng.fork();
  const { width, height } = o;
  const requested = requestedCount(o);
  const shapes = sampleShapes(o, requested, layoutRng);
  const { particles, labels, radius2 } = placeParticles(o, shapes, layoutRng);

  // Signal in fractions of full scale: background (with its bodies) + (±) contrast·brightness·shading.
  const field = unevenField(width, height, lookRng);
  const bodies = bodyField(width, height, o.bodies, lookRng);
  const base = backgroundLevel(o);
  const sign = o.polarity === 'bright' ? 1 : -1;
  const bodySignal = sign * o.bodies.contrast;
  const signal = new Float32Array(width * height);
  const amplitude = new Float32Array(particles.length + 1);
  for (const p of particles) amplitude[p.label] = sign * o.contrast * p.brightness;
  const dome = o.shading === 'dome';
  for (let i = 0; i < signal.length; i++) {
    let v = base + o.unevenness * field[i];
    if (bodies) v += bodySignal * bodies[i];
    const l = labels[i];
    if (l !== 0) v += amplitude[l] * (dome ? Math.sqrt(Math.max(0, 1 - radius2[i])) : 1);
    signal[i] = v;
  }
  const blurred = gaussianBlur(signal, width, height, o.blur);
  const samples = addNoiseAndQuantise(blurred, o, noiseRng);
  const frame = frameFromPixels({ source, width, height, channels: 1, data: samples });
  return { frame, labels: { width, height, data: labels }, particles, requested, samples, options: o };
}

/**
 * Frames of a series, one at a time (a long stream never sits in memory at
 * once). Frame i uses a generator forked from `rng` in order, and the options
 * with the drift applied at i/(frames−1).
 */
export function* iterateSynthSeries(options: SynthSeriesOptionsInput, rng: Rng, source = 'synth'): Generator<SynthFrame> {
  const o = parseSynthSeriesOptions(options);
  for (let i = 0; i < o.frames; i++) {
    const frameRng = rng.fork();
    yield generateSynthFrame(frameOptionsAt(o, i), frameRng, `${source}:frame-${String(i).padStart(4, '0')}`);
  }
}

/** All frames of a series (see iterateSynthSeries). */
export function generateSynthSeries(options: SynthSeriesOptionsInput, rng: Rng, source = 'synth'): SynthFrame[] {
  return [...iterateSynthSeries(options, rng, source)];
}

/** Poisson shot noise on the expected photon count, Gaussian read noise, clamp to [0, 1], quantise to the full scale. */
function addNoiseAndQuantise(signal: Float32Array, o: SynthFrameOptions, rng: Rng): Uint8Array | Uint16Array {
  const full = fullScaleOf(o);
  const samples = o.bitDepth === 8 ? new Uint8Array(signal.length) : new Uint16Array(signal.length);
  const { photons, read } = o.noise;
  for (let i = 0; i < signal.length; i++) {
    let v = Math.max(0, signal[i]);
    if (photons > 0) v = samplePoisson(rng, v * photons) / photons;
    if (read > 0) v += read * rng.normal();
    v = v <= 0 ? 0 : v >= 1 ? 1 : v;
    samples[i] = Math.round(v * full);
  }
  return samples;
}
