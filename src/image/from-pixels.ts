import { SamstarError, type ErrorCode } from '../util/errors.js';
import { collapseEqualChannels, dropAlpha } from './channels.js';
import type { Frame } from './frame.js';
import { hashRawImage } from './hash.js';
import { bitDepthOf, type RawImage, type Samples } from './samples.js';
import {
  applyStretch,
  DEFAULT_STRETCH,
  describeStretch,
  stretchRange,
  validateStretch,
  type StretchOption,
} from './stretch.js';

export interface FrameOptions {
  /** Percentile stretch to 0–255 (percent; default 0.5 / 99.5), or 'none' to keep the container scale. */
  readonly stretch?: StretchOption;
}

/** An in-memory image: HTTP uploads, synthetic frames, decoded video. */
export interface PixelSource {
  /** A name for messages and `Frame.source` (e.g. "upload:frame-12", "synth:seed=3"). */
  readonly source: string;
  readonly width: number;
  readonly height: number;
  /** 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA; alpha is dropped. */
  readonly channels: number;
  /** Row-major interleaved samples; 8-bit, 16-bit or float. */
  readonly data: Uint8Array | Uint16Array | Float32Array;
}

/**
 * Build a Frame from samples in memory, exactly as `loadFrame` would from a file
 * holding the same samples (same pixels, same hash).
 */
export function frameFromPixels(input: PixelSource, options: FrameOptions = {}): Frame {
  const { source, width, height, channels, data } = input;
  const where = `pixels "${source}"`;
  const bad = (what: string): SamstarError => new SamstarError('ARGUMENT_INVALID', `${where}: ${what}`);
  if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
    throw bad(`width and height must be positive integers, got ${width}×${height}`);
  }
  if (!Number.isInteger(channels) || channels < 1 || channels > 4) {
    throw bad(`channels must be 1, 2, 3 or 4, got ${channels}`);
  }
  if (!(data instanceof Uint8Array || data instanceof Uint16Array || data instanceof Float32Array)) {
    throw bad('data must be a Uint8Array, Uint16Array or Float32Array');
  }
  if (data.length !== width * height * channels) {
    throw bad(`data has ${data.length} samples; expected width·height·channels = ${width}·${height}·${channels} = ${width * height * channels}`);
  }
  return buildFrame(source, { width, height, channels, data }, options, 'ARGUMENT_INVALID');
}

/**
 * The shared path from decoded samples to a Frame: drop alpha, collapse equal
 * RGB to grey, stretch, hash. `errorCode` is what bad sample values raise
 * (a file's content vs a caller's argument).
 */
export function buildFrame(source: string, decoded: RawImage, options: FrameOptions, errorCode: ErrorCode): Frame {
  const stretch = options.stretch ?? DEFAULT_STRETCH;
  validateStretch(stretch, source);
  if (decoded.data instanceof Float32Array) rejectNonFinite(source, decoded.data, errorCode);
  const raw = collapseEqualChannels(dropAlpha(decoded));
  const channels = raw.channels as 1 | 3;
  const pixels = applyStretch(raw.data, stretchRange(raw.data, stretch));
  return {
    source,
    width: raw.width,
    height: raw.height,
    channels,
    pixels,
    grey: channels === 1 ? pixels : channelMean(pixels, raw.width * raw.height),
    hash: hashRawImage(raw, `stretch=${describeStretch(stretch)}`),
    bitDepth: bitDepthOf(raw.data),
  };
}

/** Mean of three interleaved channels. (Grey frames share `pixels` as `grey`: both are read-only by contract.) */
function channelMean(pixels: Float32Array, n: number): Float32Array {
  const grey = new Float32Array(n);
  for (let p = 0, i = 0; p < n; p++, i += 3) grey[p] = (pixels[i] + pixels[i + 1] + pixels[i + 2]) / 3;
  return grey;
}

/** NaN or ±Inf would poison the percentiles and every downstream statistic. */
function rejectNonFinite(source: string, data: Samples, errorCode: ErrorCode): void {
  let bad = 0;
  let first = -1;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      if (first < 0) first = i;
      bad++;
    }
  }
  if (bad > 0) {
    throw new SamstarError(
      errorCode,
      `${source}: ${bad} of ${data.length} float samples are NaN or infinite (first at sample index ${first}); expected finite numbers`,
      { hint: 'replace NaN/Inf (e.g. with the background level) before loading' },
    );
  }
}
