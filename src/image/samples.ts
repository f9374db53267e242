/**
 * Decoded pixel samples before any normalisation: what a file (or an in-memory
 * source) actually holds. The loader, the stretch and the hash all work on this
 * one shape so in-memory and file sources behave identically.
 */

/** Integer samples of 8 or 16 bits, or float samples (32-bit) from float TIFFs and synthetic sources. */
export type Samples = Uint8Array | Uint16Array | Float32Array;

export interface RawImage {
  readonly width: number;
  readonly height: number;
  /** Interleaved channels per pixel (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA). */
  readonly channels: number;
  /** Row-major, interleaved; length width·height·channels. */
  readonly data: Samples;
}

/** 8, 16 or 32 (float), read off the array type so it can never disagree with the data. */
export function bitDepthOf(data: Samples): 8 | 16 | 32 {
  if (data instanceof Uint8Array) return 8;
  if (data instanceof Uint16Array) return 16;
  return 32;
}

/** A same-type empty array of length n. */
export function allocateLike(data: Samples, n: number): Samples {
  if (data instanceof Uint8Array) return new Uint8Array(n);
  if (data instanceof Uint16Array) return new Uint16Array(n);
  return new Float32Array(n);
}
