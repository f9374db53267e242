import { createHash } from 'node:crypto';
import { bitDepthOf, type RawImage } from './samples.js';

/**
 * sha256 of the samples (as stored in memory: little-endian on every platform
 * Node ships for) plus the shape, bit depth and any extra text that changes the
 * derived pixels. The path is left out on purpose: a renamed or copied file keeps
 * its cache entries, and an in-memory source with the same samples matches its file.
 */
export function hashRawImage(raw: RawImage, extra: string): string {
  const hash = createHash('sha256');
  hash.update(`samstar-frame-v1;${raw.width}x${raw.height}x${raw.channels};bits=${bitDepthOf(raw.data)};${extra};`);
  hash.update(new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength));
  return hash.digest('hex');
}
