/**
 * A frame: one image as the pipeline sees it.
 *
 * `pixels` holds the contrast-stretched intensities in 0–255 (float, interleaved
 * channels, row-major), which is what SAM-style preprocessing expects.
 * `grey` is the channel mean of `pixels` (what measurements and rewards use).
 * `source` is a file path or a frame reference (`stack.tif#t0003`, see frame-ref.ts).
 * `hash` identifies the content (sha256 of the decoded raw samples and the
 * shape), so caches survive renames and never confuse two images.
 */
export interface Frame {
  /** Where it came from: file path, or a generated name. */
  readonly source: string;
  readonly width: number;
  readonly height: number;
  /** 1 (grey) or 3 (RGB); alpha is dropped on load. */
  readonly channels: 1 | 3;
  /** length width·height·channels, values in [0, 255]. */
  readonly pixels: Float32Array;
  /** length width·height, channel mean of `pixels`. */
  readonly grey: Float32Array;
  /** sha256 hex of the raw decoded samples plus shape. */
  readonly hash: string;
  /** Bit depth of the stored samples (8 or 16; 32 for float sources). */
  readonly bitDepth: number;
  /** Nanometres per pixel, when the file's metadata or the user gave one (measurements then add physical units). */
  readonly pixelSizeNm?: number;
}
