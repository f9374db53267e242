import sharp, { type Metadata } from 'sharp';
import { SUPPORTED_IMAGE_FORMATS } from '../image/decode.js';
import type { Frame } from '../image/frame.js';
import { frameFromPixels } from '../image/from-pixels.js';
import { frameFromBytes } from '../image/load.js';
import { isSamstarError } from '../util/errors.js';
import { ServeError } from './errors.js';

/**
 * Frames as they arrive over HTTP or the stream: an encoded image (PNG, TIFF,
 * JPEG — decoded by the same code as `loadFrame`, so the same bytes give the same
 * pixels and hash as the file) or raw little-endian pixels with their shape.
 * Shapes and sizes are checked when the frame arrives (cheap, before it waits in
 * a queue); decoding happens later.
 */
export type EncodedFormat = (typeof SUPPORTED_IMAGE_FORMATS)[number];
export const DTYPES = ['uint8', 'uint16', 'float32'] as const;
export type Dtype = (typeof DTYPES)[number];
const DTYPE_BYTES: Record<Dtype, number> = { uint8: 1, uint16: 2, float32: 4 };

export type FrameInput =
  | { readonly kind: 'encoded'; readonly source: string; readonly bytes: Uint8Array }
  | {
      readonly kind: 'raw';
      readonly source: string;
      readonly bytes: Uint8Array;
      readonly width: number;
      readonly height: number;
      readonly channels: number;
      readonly dtype: Dtype;
    };

export interface PixelLimits {
  /** Largest width·height accepted. */
  readonly maxPixels: number;
  /** The signal channel of multi-channel uploads (serve --channel); without it they are refused with a 400 that says so. */
  readonly channel?: number;
  /** Nanometres per pixel for every frame (serve --pixel-size), overriding the files' metadata. */
  readonly pixelSizeNm?: number;
}

/** Content types of encoded images (with the aliases clients send). */
const IMAGE_TYPES: Record<string, EncodedFormat> = {
  'image/png': 'png',
  'image/tiff': 'tiff',
  'image/tif': 'tiff',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
};
export const RAW_TYPE = 'application/octet-stream';
export const ACCEPTED_TYPES = [...Object.keys(IMAGE_TYPES), RAW_TYPE];
export const ACCEPTED_TEXT = 'image/png, image/tiff, image/jpeg, or application/octet-stream (raw pixels with x-width, x-height, x-dtype, x-channels)';

/** The media type without parameters, lower case ("image/png; q=1" → "image/png"). */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

export function isEncodedType(type: string): boolean {
  return type in IMAGE_TYPES;
}

export interface RawShape {
  readonly width?: unknown;
  readonly height?: unknown;
  readonly channels?: unknown;
  readonly dtype?: unknown;
}

/**
 * A frame input from its media type, shape fields (headers or a stream header) and
 * bytes. Throws a ServeError (400 / 413 / 415) naming the problem.
 */
export function frameInput(type: string, shape: RawShape, bytes: Uint8Array, source: string, limits: PixelLimits, fieldPrefix = 'x-'): FrameInput {
  if (bytes.byteLength === 0) {
    throw new ServeError(400, 'BAD_REQUEST', `${source}: the body is empty; expected an image`, `send ${ACCEPTED_TEXT}`);
  }
  if (isEncodedType(type)) return { kind: 'encoded', source, bytes };
  if (type !== RAW_TYPE) {
    throw new ServeError(415, 'UNSUPPORTED_MEDIA_TYPE', `${source}: content type "${type || '(none)'}" is not an image type samstar reads`, `send ${ACCEPTED_TEXT}`);
  }
  const field = (name: string): string => `${fieldPrefix}${name}`;
  const int = (value: unknown, name: string, min: number, max: number, fallback?: number): number => {
    if (value === undefined || value === '') {
      if (fallback !== undefined) return fallback;
      throw new ServeError(400, 'BAD_REQUEST', `${source}: raw pixels need ${field(name)}`, `raw pixels need ${field('width')}, ${field('height')}, ${field('dtype')} (${DTYPES.join('|')}) and ${field('channels')} (default 1)`);
    }
    const n = typeof value === 'number' ? value : Number(String(value).trim());
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new ServeError(400, 'BAD_REQUEST', `${source}: ${field(name)} = ${JSON.stringify(value)} is not an integer in [${min}, ${max}]`);
    }
    return n;
  };
  const width = int(shape.width, 'width', 1, 1 << 20);
  const height = int(shape.height, 'height', 1, 1 << 20);
  const channels = int(shape.channels, 'channels', 1, 4, 1);
  const dtypeText = shape.dtype === undefined ? 'uint8' : String(shape.dtype).trim().toLowerCase();
  if (!(DTYPES as readonly string[]).includes(dtypeText)) {
    throw new ServeError(400, 'BAD_REQUEST', `${source}: ${field('dtype')} = ${JSON.stringify(shape.dtype)} is not one of ${DTYPES.join(', ')}`);
  }
  const dtype = dtypeText as Dtype;
  checkPixels(width, height, source, limits);
  const expected = width * height * channels * DTYPE_BYTES[dtype];
  if (bytes.byteLength !== expected) {
    throw new ServeError(
      400,
      'BAD_REQUEST',
      `${source}: the body has ${bytes.byteLength} bytes; ${width}×${height}×${channels} ${dtype} pixels are ${expected} bytes`,
      'raw pixels are row-major, channels interleaved, little-endian, with no header or padding',
    );
  }
  return { kind: 'raw', source, bytes, width, height, channels, dtype };
}

function checkPixels(width: number, height: number, source: string, limits: PixelLimits): void {
  if (width * height > limits.maxPixels) {
    throw new ServeError(413, 'IMAGE_TOO_LARGE', `${source}: ${width}×${height} = ${width * height} pixels is more than the server accepts (${limits.maxPixels})`, 'send a smaller image or crop it, or start the server with a larger --max-pixels');
  }
}

/** Decode a frame input to a Frame (as `loadFrame` would for a file of the same bytes). */
export async function decodeFrameInput(input: FrameInput, limits: PixelLimits): Promise<Frame> {
  if (input.kind === 'raw') {
    // Copy into a fresh buffer: the body may sit at any offset of a larger one (a Buffer's
    // slice() would still share it), and 16/32-bit views need an aligned start.
    const copy = new Uint8Array(input.bytes.byteLength);
    copy.set(input.bytes);
    const data =
      input.dtype === 'uint8'
        ? copy
        : input.dtype === 'uint16'
          ? new Uint16Array(copy.buffer, 0, copy.byteLength / 2)
          : new Float32Array(copy.buffer, 0, copy.byteLength / 4);
    return frameFromPixels({ source: input.source, width: input.width, height: input.height, channels: input.channels, data });
  }
  // Header-only look first: refuse a huge image before decoding it, and a body that is no image at all as 400.
  let meta: Metadata;
  try {
    meta = await sharp(input.bytes, { failOn: 'error' }).metadata();
  } catch (error) {
    const said = (error instanceof Error ? error.message : String(error)).split('\n')[0].trim();
    throw new ServeError(400, 'IMAGE_UNREADABLE', `${input.source}: the body is not a readable image (${said})`, `send ${ACCEPTED_TEXT}`);
  }
  checkPixels(meta.width ?? 0, meta.height ?? 0, input.source, limits);
  try {
    return await frameFromBytes(input.bytes, input.source, { channel: limits.channel, pixelSizeNm: limits.pixelSizeNm });
  } catch (error) {
    // A stack or an unchosen channel is the client's to fix: 400, with the loader's words.
    if (isSamstarError(error) && error.code === 'ARGUMENT_INVALID') throw new ServeError(400, 'BAD_REQUEST', error.message, error.hint ?? `send ${ACCEPTED_TEXT}`);
    throw error;
  }
}
