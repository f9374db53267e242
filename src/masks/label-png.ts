import { readFile } from 'node:fs/promises';
import { decode as decodePng, encode as encodePng, hasPngSignature, type DecodedPng } from 'fast-png';
import sharp, { type Metadata } from 'sharp';
import { SamstarError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import type { LabelImage } from './types.js';

/**
 * Instance label images on disk: 16-bit grey PNG (0 = background), the format
 * of BBBC039, DSB2018 and most microscopy ground truth.
 *
 * PNGs are decoded with fast-png (exact samples, and palette PNGs give their
 * indices, which is how PIL-written label images store labels); TIFFs with sharp.
 */
export async function readLabelPng(path: string): Promise<LabelImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new SamstarError('IMAGE_NOT_FOUND', `label image not found: ${path}`, { hint: 'check the path' });
    }
    throw invalid(path, `cannot be read (${code ?? String(error)})`, error);
  }
  return hasPngSignature(bytes) ? fromPng(path, bytes) : fromSharp(path, bytes);
}

/** The most instances a 16-bit label PNG can hold. */
export const MAX_PNG_LABEL = 65535;

/** Why a frame's label PNG is left out (`verb`: "written", "sent"): for records and answers, which keep every mask as RLE. */
export function labelPngOmitted(count: number, verb: string): string {
  return `not ${verb}: ${count} instances do not fit a 16-bit PNG (at most ${MAX_PNG_LABEL}); the masks are the RLEs of "instances"`;
}

/** Labels as lossless 16-bit grey PNG bytes; `where` names the output in errors. */
export function encodeLabelPng(label: LabelImage, where = 'label PNG'): Uint8Array {
  const { width, height, data } = label;
  if (data.length !== width * height) {
    throw new SamstarError('SIZE_MISMATCH', `${where}: label data has ${data.length} pixels; expected ${width}×${height}`);
  }
  const out = new Uint16Array(data.length);
  let max = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v > max) max = v;
    out[i] = v;
  }
  if (max > MAX_PNG_LABEL) {
    throw new SamstarError('LABELS_INVALID', `${where}: label ${max} does not fit a 16-bit PNG (at most ${MAX_PNG_LABEL})`, {
      hint: 'relabel the instances sequentially (relabelSequential) or split the image',
    });
  }
  return encodePng({ width, height, data: out, depth: 16, channels: 1 });
}

/** Write labels as a lossless 16-bit grey PNG, atomically. */
export async function writeLabelPng(path: string, label: LabelImage): Promise<void> {
  await writeFileAtomic(path, encodeLabelPng(label, `writeLabelPng ${path}`));
}

function fromPng(path: string, bytes: Buffer): LabelImage {
  let png: DecodedPng;
  try {
    png = decodePng(bytes);
  } catch (error) {
    throw invalid(path, `is not a readable PNG (${(error as Error).message})`, error);
  }
  const { width, height, channels, depth } = png;
  const samples = depth < 8 ? unpackBits(png.data as Uint8Array, width, height, depth) : png.data;
  if (channels === 1) return { width, height, data: Uint32Array.from(samples) };
  // Grey+alpha, RGB, RGBA: alpha ignored; colour only if all colour channels agree.
  const colour = channels >= 3 ? 3 : 1;
  return collapse(path, samples, width, height, channels, colour);
}

async function fromSharp(path: string, bytes: Buffer): Promise<LabelImage> {
  const image = sharp(bytes, { failOn: 'error' });
  let meta: Metadata;
  try {
    meta = await image.metadata();
  } catch (error) {
    throw invalid(path, `is not a readable image (sharp: ${firstLine(error)})`, error);
  }
  const depth = meta.depth ?? 'unknown';
  if (depth !== 'uchar' && depth !== 'ushort') {
    throw invalid(path, `holds ${depth} samples; labels must be 8- or 16-bit integers (float or 32-bit label images are not read)`);
  }
  const channels = meta.channels ?? 1;
  const colour = channels - (meta.hasAlpha ? 1 : 0) >= 3 ? 3 : 1;
  const wide = depth === 'ushort';
  try {
    const { data, info } = await sharp(bytes, { failOn: 'error' })
      .toColourspace(colour === 3 ? (wide ? 'rgb16' : 'srgb') : wide ? 'grey16' : 'b-w')
      .raw({ depth })
      .toBuffer({ resolveWithObject: true });
    const copy = Buffer.from(data); // aligned copy for the 16-bit view
    const samples = wide ? new Uint16Array(copy.buffer, copy.byteOffset, copy.length / 2) : new Uint8Array(copy);
    return collapse(path, samples, info.width, info.height, info.channels, colour);
  } catch (error) {
    if (error instanceof SamstarError) throw error;
    throw invalid(path, `is corrupt or truncated (sharp: ${firstLine(error)})`, error);
  }
}

/** Take the first channel when the colour channels are equal everywhere; otherwise the file is a colour rendering, not labels. */
function collapse(
  path: string,
  samples: ArrayLike<number>,
  width: number,
  height: number,
  channels: number,
  colour: 1 | 3,
): LabelImage {
  const n = width * height;
  const data = new Uint32Array(n);
  for (let p = 0, i = 0; p < n; p++, i += channels) {
    const v = samples[i];
    if (colour === 3 && (samples[i + 1] !== v || samples[i + 2] !== v)) {
      throw invalid(
        path,
        `is an RGB image whose channels differ (pixel x=${p % width}, y=${Math.floor(p / width)}: ${v},${samples[i + 1]},${samples[i + 2]}); expected a single-channel 8- or 16-bit label image`,
        undefined,
        'a coloured rendering of labels cannot be read back as instance ids; export the label image itself (grey, 16-bit)',
      );
    }
    data[p] = v;
  }
  return { width, height, data };
}

/** Unpack 1/2/4-bit single-channel rows (byte-aligned rows, most significant bits first). */
function unpackBits(packed: Uint8Array, width: number, height: number, depth: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const byte = packed[y * rowBytes + (bit >> 3)];
      out[y * width + x] = (byte >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

function invalid(path: string, what: string, cause?: unknown, hint?: string): SamstarError {
  return new SamstarError('LABELS_INVALID', `label image ${path} ${what}`, {
    hint: hint ?? 'labels must be a single-channel 8- or 16-bit PNG or TIFF, 0 = background, 1..n = instances',
    cause,
  });
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0].trim();
}
