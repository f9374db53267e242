import type { LabelImage } from '../masks/types.js';

/**
 * One instance cut to its bounding box, with a one-pixel zero frame so neighbour reads never
 * need bounds checks. Pixel (r, c) of the box sits at `data[(r + 1) * (cols + 2) + c + 1]`.
 */
export interface InstanceCrop {
  /** The label value (label image) or the 1-based instance index (segmentation / mask list). */
  readonly label: number;
  /** Top row and left column of the bounding box in the frame. */
  readonly row0: number;
  readonly col0: number;
  /** Box height and width (inclusive pixel extent, ≥ 1). */
  readonly rows: number;
  readonly cols: number;
  /**
   * (rows + 2) × (cols + 2); 0 = outside, non-zero = inside. Inside pixels hold FIRST_CLAIM (3)
   * where this instance is the first (in instance order) to claim the pixel and INSIDE (1) where
   * an earlier mask already did, so unions over overlapping masks need no frame-sized buffer.
   */
  readonly data: Uint8Array;
  /** Pixel count. */
  readonly area: number;
}

/**
 * A prediction reduced to what measurements and matching need: the instances as crops, and how
 * the frame's pixels are claimed.
 */
export interface InstanceSet {
  readonly width: number;
  readonly height: number;
  readonly crops: InstanceCrop[];
  /**
   * Per pixel, how many masks claim it (saturating at 255). For a label image this is the label
   * image itself (its instances cannot overlap): only "zero or not" is ever read from it.
   */
  readonly claims: Uint8Array | Uint32Array;
  /** True when built from a label image (instances are disjoint). */
  readonly disjoint: boolean;
  /** Pixels claimed by at least one mask. */
  readonly covered: number;
  /** Pixels claimed by more than one mask. */
  readonly overlap: number;
}

/** Crop pixel values (see InstanceCrop.data). */
export const INSIDE = 1;
export const FIRST_CLAIM = 3;

/** Per-instance measurements. Names follow scikit-image's `regionprops` where it has the quantity. */
export interface InstanceMeasurement {
  label: number;
  /** Pixel count (skimage `area`). */
  area: number;
  /** [min_row, min_col, max_row, max_col), max exclusive (skimage `bbox`). */
  bbox: [number, number, number, number];
  /** [row, col] mean pixel position (skimage `centroid`). */
  centroid: [number, number];
  /** skimage `perimeter` (4-connected border, weighted neighbour-code estimator). */
  perimeter: number;
  /** Diameter of the disc with the same area, √(4A/π) (skimage `equivalent_diameter`). */
  equivalent_diameter: number;
  /** 4·√(largest eigenvalue of the inertia tensor) (skimage `major_axis_length`). */
  major_axis_length: number;
  /** 4·√(smallest eigenvalue) (skimage `minor_axis_length`). */
  minor_axis_length: number;
  /** √(1 − λ2/λ1) (skimage `eccentricity`), 0 for λ1 = 0. */
  eccentricity: number;
  /** Angle between the row axis and the major axis, radians in [−π/2, π/2] (skimage `orientation`). */
  orientation: number;
  /** Pixel count of the convex hull image (skimage `convex_area`). */
  convex_area: number;
  /** area / convex_area (skimage `solidity`). */
  solidity: number;
  /** 4πA/P² (not in skimage); 0 when the perimeter is 0 (a single pixel). Can exceed 1 for tiny objects. */
  circularity: number;
  /** max(major, 1) / max(minor, 1): ≥ 1, finite for one-pixel-wide lines (not in skimage). */
  aspect_ratio: number;
  /** The bounding box touches the frame edge. */
  touches_border: boolean;
  /** Mean grey value inside (skimage `mean_intensity`); only with an image. */
  mean_intensity?: number;
  /** Mean grey value of the ring just outside (see README); only with an image. */
  ring_mean_intensity?: number;
  /** mean_intensity − ring_mean_intensity; only with an image. */
  intensity_contrast?: number;
  /** Mean Sobel gradient magnitude on the inner boundary pixels (grey levels per pixel); only with an image. */
  boundary_gradient?: number;
}

/** Frame-level measurements. */
export interface FrameMeasurement {
  width: number;
  height: number;
  /** Number of instances. */
  count: number;
  /** Instances per 10⁶ pixels. */
  density: number;
  /** Pixels claimed by at least one mask. */
  covered_pixels: number;
  /** covered_pixels / (width · height). */
  area_fraction: number;
  /** Pixels claimed by more than one mask (always 0 for a label image). */
  overlap_pixels: number;
  /** overlap_pixels / covered_pixels (0 when nothing is covered). */
  overlap_fraction: number;
  /** Only with an image: the foreground estimate (see README) and how much of it no mask covers. */
  foreground_threshold?: number;
  foreground_polarity?: 'bright' | 'dark';
  foreground_pixels?: number;
  /** Foreground pixels claimed by a mask. */
  covered_foreground_pixels?: number;
  foreground_fraction?: number;
  /** Fraction of the foreground pixels that no mask covers (0 when there is no foreground). */
  uncovered_foreground?: number;
}

export interface Measurements {
  readonly instances: InstanceMeasurement[];
  readonly frame: FrameMeasurement;
  /** The crops the measurements came from, for matching without decoding the masks again. */
  readonly set: InstanceSet;
}

export type ForegroundPolarity = 'auto' | 'bright' | 'dark';

export interface MeasureOptions {
  /** The image; intensity, contrast, boundary-gradient and foreground measurements need it. */
  readonly frame?: { readonly width: number; readonly height: number; readonly grey: Float32Array };
  /** Width in pixels of the ring just outside each instance (square dilation). Default 2. */
  readonly ringWidth?: number;
  /** Which side of the threshold is foreground. Default 'auto' (the minority side). */
  readonly foreground?: ForegroundPolarity;
  /** Fixed grey threshold (0–255) instead of Otsu's. Foreground is ≥ it (bright) or < it (dark). */
  readonly foregroundThreshold?: number;
  /**
   * Compute the ring statistics (ring_mean_intensity, intensity_contrast) with an image. Default
   * true; the reward skips them when no term reads them (they are the costliest measurement).
   */
  readonly ring?: boolean;
  /** Where the prediction came from, for error messages. */
  readonly source?: string;
}

export type { LabelImage };
