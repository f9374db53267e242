import { stat } from 'node:fs/promises';
import sharp, { type Metadata } from 'sharp';
import { SamstarError } from '../util/errors.js';
import type { RawImage } from './samples.js';
import { decodeMrcSection, isMrcPath, readMrcHeader } from './mrc.js';
import { mrcLayout, stackLayout, type StackLayout } from './stack.js';
import { readTiffTags } from './tiff-tags.js';

/** The container formats samstar reads (and tests). Others sharp knows (GIF, WebP, SVG…) are refused: lossy or not microscopy. */
export const SUPPORTED_IMAGE_FORMATS = ['png', 'jpeg', 'tiff'] as const;
const SUPPORTED_TEXT = 'PNG, JPEG or TIFF (8- or 16-bit, or float TIFF; grey, RGB or RGBA), or MRC (.mrc, .mrcs, .map)';

/**
 * Decode an image file to its stored samples with no colour management or
 * rescaling: 8-bit stays 8-bit, 16-bit stays 16-bit, float TIFF stays float.
 * Alpha is kept here (the frame builder drops it) so the decoder stays a
 * faithful reader.
 */
export async function decodeImageFile(path: string, options: DecodeOptions = {}): Promise<RawImage> {
  await assertReadableFile(path);
  if (isMrcPath(path)) return decodeMrcSection(path, await readMrcHeader(path), options.page ?? 0);
  return decodeWithSharp(path, path, options);
}

/** Which part of a file to decode: a page of a multi-page TIFF (0-based), one sample channel of it. */
export interface DecodeOptions {
  readonly page?: number;
  /** One sample (channel) of each pixel, as a one-channel image. */
  readonly sample?: number;
}

/** What a file holds before decoding it: its format, pages, and the stack layout (frames, channels, pixel size). */
export interface ImageInfo {
  readonly format: string;
  readonly pages: number;
  readonly layout: StackLayout;
}

/** Read an image file's header: format, pages and how they map to frames and channels (no pixel data). */
export async function inspectImageFile(path: string): Promise<ImageInfo> {
  await assertReadableFile(path);
  if (isMrcPath(path)) {
    const header = await readMrcHeader(path);
    return { format: 'mrc', pages: header.nz, layout: mrcLayout(header) };
  }
  return inspectWithSharp(path, path);
}

/** `inspectImageFile` for bytes in memory (an HTTP upload). */
export async function inspectImageBuffer(bytes: Uint8Array, name: string): Promise<ImageInfo> {
  return inspectWithSharp(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), name);
}

async function inspectWithSharp(input: string | Buffer, path: string): Promise<ImageInfo> {
  const meta = await readMetadata(input, path, undefined);
  const format = meta.format ?? 'unknown';
  const tags = format === 'tiff' ? await readTiffTags(input).catch(() => undefined) : undefined;
  const pages = meta.pages ?? 1;
  return { format, pages, layout: stackLayout(tags, pages, meta.channels ?? 1) };
}

async function readMetadata(input: string | Buffer, path: string, page: number | undefined): Promise<Metadata> {
  try {
    return await sharp(input, { failOn: 'error', ...(page !== undefined ? { page } : {}) }).metadata();
  } catch (error) {
    throw unreadable(path, error, 'IMAGE_UNSUPPORTED');
  }
}

/**
 * Decode an encoded image held in memory (an HTTP upload) exactly as `decodeImageFile`
 * decodes the same bytes from a file; `name` stands in for the path in messages.
 */
export async function decodeImageBuffer(bytes: Uint8Array, name: string, options: DecodeOptions = {}): Promise<RawImage> {
  return decodeWithSharp(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), name, options);
}

async function decodeWithSharp(input: string | Buffer, path: string, options: DecodeOptions = {}): Promise<RawImage> {
  // failOn 'error': real microscopes write TIFF tags libvips warns about (BBBC039's DateTime has
  // a NUL byte); the default 'warning' would refuse those files. Truncated data still fails.
  const open = () => sharp(input, { failOn: 'error', ...(options.page !== undefined ? { page: options.page } : {}) });
  const meta = await readMetadata(input, path, options.page);
  const format = meta.format ?? 'unknown';
  if (!(SUPPORTED_IMAGE_FORMATS as readonly string[]).includes(format)) {
    throw new SamstarError('IMAGE_UNSUPPORTED', `${path}: ${format} images are not supported; expected ${SUPPORTED_TEXT}`, {
      hint: 'convert it to PNG or TIFF (lossless)',
    });
  }
  const channels = meta.channels ?? 0;
  const colour = channels - (meta.hasAlpha ? 1 : 0) >= 3;
  const depth = meta.depth ?? 'uchar';
  // uchar/ushort are read as such; any other numeric type (float, 32-bit int, short…) as float.
  const kind = depth === 'uchar' ? 'uchar' : depth === 'ushort' ? 'ushort' : depth === 'complex' || depth === 'dpcomplex' ? undefined : 'float';
  if (!kind) {
    throw new SamstarError('IMAGE_UNSUPPORTED', `${path}: ${depth} samples are not supported; expected ${SUPPORTED_TEXT}`);
  }
  // Output colourspace equal to the stored one, so libvips converts nothing (verified exact for
  // grey/RGB ± alpha, 8/16-bit, PNG and TIFF). Float stays in its own interpretation.
  const space = kind === 'float' ? undefined : colour ? (kind === 'ushort' ? 'rgb16' : 'srgb') : kind === 'ushort' ? 'grey16' : 'b-w';
  try {
    let pipeline = open();
    // One sample channel: picked by libvips after the no-op colourspace step (which keeps a
    // second grey band as a band; without it libvips turns grey+band into sRGB+alpha).
    if (space) pipeline = pipeline.toColourspace(space);
    if (options.sample !== undefined) pipeline = pipeline.extractChannel(options.sample as 0 | 1 | 2 | 3);
    else if (!space && !colour) pipeline = pipeline.extractChannel(0);
    const { data, info } = await pipeline.raw({ depth: kind }).toBuffer({ resolveWithObject: true });
    // Buffer pools may misalign the byte offset for 16/32-bit views: copy when needed.
    const bytes = data.byteOffset % 4 === 0 ? data : Buffer.from(data);
    const samples =
      kind === 'uchar'
        ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)
        : kind === 'ushort'
          ? new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2)
          : new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    return { width: info.width, height: info.height, channels: info.channels, data: samples };
  } catch (error) {
    throw unreadable(path, error, 'IMAGE_UNREADABLE');
  }
}

async function assertReadableFile(path: string): Promise<void> {
  try {
    const info = await stat(path);
    if (!info.isFile()) {
      throw new SamstarError('IMAGE_UNREADABLE', `${path}: is not a file (a directory or device); expected an image file`);
    }
  } catch (error) {
    if (error instanceof SamstarError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new SamstarError('IMAGE_NOT_FOUND', `image not found: ${path}`, { hint: 'check the path (relative paths start at the current directory)' });
    }
    throw new SamstarError('IMAGE_UNREADABLE', `${path}: cannot be read (${code ?? String(error)})`, { cause: error });
  }
}

function unreadable(path: string, error: unknown, code: 'IMAGE_UNREADABLE' | 'IMAGE_UNSUPPORTED'): SamstarError {
  const said = (error instanceof Error ? error.message : String(error)).split('\n')[0].trim();
  const what = code === 'IMAGE_UNSUPPORTED' ? 'is not an image samstar can read' : 'is corrupt or truncated';
  return new SamstarError(code, `${path}: ${what} (sharp: ${said}); expected ${SUPPORTED_TEXT}`, {
    hint: 'check the file opens in an image viewer; re-export it as PNG or TIFF',
    cause: error,
  });
}
