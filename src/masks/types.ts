/** A binary mask over a width×height image, row-major, 1 = inside. */
export interface BinaryMask {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/**
 * COCO uncompressed run-length encoding: `size` is [height, width]; `counts`
 * are alternating run lengths over the pixels in column-major (Fortran) order,
 * starting with a background (0) run, which may be 0 long.
 */
export interface Rle {
  readonly size: [number, number];
  readonly counts: number[];
}

/** An instance label image: 0 = background, 1..n = instances. */
export interface LabelImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint32Array;
}

/** Inclusive-pixel XYXY box (x1 is the largest column index inside). */
export type BoxXYXY = [number, number, number, number];
/** COCO XYWH box, w = x1 − x0 as in SAM's records. */
export type BoxXYWH = [number, number, number, number];
