import { createHash } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Frame } from '../image/frame.js';
import type { LabelImage } from '../masks/types.js';
import { SamstarError } from '../util/errors.js';

/**
 * Frames and label images as bytes in Redis (the default way frames reach
 * workers), and the data-root check of frames read from a shared path.
 *
 * Blob layout: a 4-byte little-endian header length, a JSON header, then the
 * typed arrays back to back (Float32 pixels, Float32 grey unless it is the
 * pixels themselves, or Uint32 labels). Decoding copies the arrays out, so
 * their alignment in the Redis reply does not matter.
 */
interface FrameHeader {
  readonly kind: 'frame';
  readonly source: string;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly hash: string;
  readonly bitDepth: number;
  readonly greyIsPixels: boolean;
}

interface TruthHeader {
  readonly kind: 'truth';
  readonly width: number;
  readonly height: number;
}

function pack(header: object, arrays: ArrayBufferView[]): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length, 0);
  return Buffer.concat([length, json, ...arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))]);
}

function unpack(blob: Buffer, what: string): { header: Record<string, unknown>; body: Buffer } {
  if (blob.length < 4) throw new SamstarError('IO_ERROR', `${what}: truncated blob in Redis`);
  const n = blob.readUInt32LE(0);
  if (4 + n > blob.length) throw new SamstarError('IO_ERROR', `${what}: truncated blob in Redis`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(blob.subarray(4, 4 + n).toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new SamstarError('IO_ERROR', `${what}: unreadable blob header in Redis`);
  }
  return { header, body: blob.subarray(4 + n) };
}

function copyFloat32(body: Buffer, offset: number, count: number, what: string): Float32Array {
  if (offset + count * 4 > body.length) throw new SamstarError('IO_ERROR', `${what}: blob shorter than its header says`);
  const out = new Float32Array(count);
  Buffer.from(out.buffer).set(body.subarray(offset, offset + count * 4));
  return out;
}

export function encodeFrame(frame: Frame): Buffer {
  const greyIsPixels = frame.grey === frame.pixels;
  const header: FrameHeader = { kind: 'frame', source: frame.source, width: frame.width, height: frame.height, channels: frame.channels, hash: frame.hash, bitDepth: frame.bitDepth, greyIsPixels };
  return pack(header, greyIsPixels ? [frame.pixels] : [frame.pixels, frame.grey]);
}

export function decodeFrame(blob: Buffer, what: string): Frame {
  const { header, body } = unpack(blob, what);
  const h = header as unknown as FrameHeader;
  if (h.kind !== 'frame' || !Number.isInteger(h.width) || !Number.isInteger(h.height) || (h.channels !== 1 && h.channels !== 3)) {
    throw new SamstarError('IO_ERROR', `${what}: the blob in Redis is not a frame`);
  }
  const n = h.width * h.height;
  const pixels = copyFloat32(body, 0, n * h.channels, what);
  const grey = h.greyIsPixels ? pixels : copyFloat32(body, n * h.channels * 4, n, what);
  return { source: h.source, width: h.width, height: h.height, channels: h.channels, pixels, grey, hash: h.hash, bitDepth: h.bitDepth };
}

export function encodeTruth(truth: LabelImage): Buffer {
  const header: TruthHeader = { kind: 'truth', width: truth.width, height: truth.height };
  return pack(header, [truth.data]);
}

export function decodeTruth(blob: Buffer, what: string): LabelImage {
  const { header, body } = unpack(blob, what);
  const h = header as unknown as TruthHeader;
  const n = h.width * h.height;
  if (h.kind !== 'truth' || !Number.isInteger(n) || body.length < n * 4) throw new SamstarError('IO_ERROR', `${what}: the blob in Redis is not a label image`);
  const data = new Uint32Array(n);
  Buffer.from(data.buffer).set(body.subarray(0, n * 4));
  return { width: h.width, height: h.height, data };
}

/** Content key of a label image (its size and labels). */
export function truthKey(truth: LabelImage): string {
  return createHash('sha256').update(`${truth.width}x${truth.height}:`).update(Buffer.from(truth.data.buffer, truth.data.byteOffset, truth.data.byteLength)).digest('hex');
}

/**
 * A path from a job, resolved under `root`, or a clear refusal: absolute paths,
 * `..` escapes and symbolic links that lead outside the root are all refused
 * (the link check compares real paths, so it needs the file to exist).
 */
export async function pathInside(root: string, path: string): Promise<string> {
  const refuse = (why: string): never => {
    throw new SamstarError('ARGUMENT_INVALID', `job path "${path}" is refused: ${why}`, {
      hint: 'jobs name files relative to the worker\'s --data-root; put the data under it (or send frames as bytes)',
    });
  };
  if (isAbsolute(path)) refuse('it is absolute');
  const base = resolve(root);
  const full = resolve(base, path);
  const rel = relative(base, full);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) refuse('it leads outside the data root');
  let real: string;
  let realBase: string;
  try {
    [real, realBase] = await Promise.all([realpath(full), realpath(base)]);
  } catch {
    throw new SamstarError('IMAGE_NOT_FOUND', `job path "${path}" does not exist under the worker's data root`, { hint: 'the coordinator and the worker must see the same files under their data roots' });
  }
  const realRel = relative(realBase, real);
  if (realRel === '' || realRel === '..' || realRel.startsWith(`..${sep}`) || isAbsolute(realRel)) refuse('a symbolic link leads outside the data root');
  return real;
}

/** The path of a coordinator-side file relative to its data root, for a job (refused when outside it). */
export function relativeToRoot(root: string, path: string, what: string): string {
  const rel = relative(resolve(root), resolve(path));
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new SamstarError('ARGUMENT_INVALID', `${what} ${path} is outside the data root ${resolve(root)}`, {
      hint: 'give --data-root a folder that holds it (workers resolve job paths under their own --data-root), or send frames as bytes',
    });
  }
  return rel.split(sep).join('/');
}
