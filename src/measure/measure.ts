import type { BinaryMask, LabelImage, Rle } from '../masks/types.js';
import { SamstarError } from '../util/errors.js';
import { convexArea } from './convex.js';
import { cropsFromLabels, cropsFromMasks, cropsFromPrediction, type Prediction } from './crops.js';
import { countAtLeast, otsuThreshold } from './frame-stats.js';
import { intensityOf, type IntensityContext } from './intensity.js';
import { secondMoments } from './moments.js';
import { boundaryOf } from './perimeter.js';
import type { FrameMeasurement, InstanceMeasurement, InstanceSet, MeasureOptions, Measurements } from './types.js';

/**
 * Measure every instance of a prediction and the frame as a whole. One pass builds the crops;
 * each instance is then measured inside its own box (moments, perimeter, hull, intensities), so
 * the cost follows the instances' boxes, not the frame (plus one cached histogram per frame).
 */
export function measure(prediction: Prediction, options: MeasureOptions = {}): Measurements {
  return measureSet(cropsFromPrediction(prediction, options.source), options);
}

export function measureLabels(label: LabelImage, options: MeasureOptions = {}): Measurements {
  return measureSet(cropsFromLabels(label, options.source), options);
}

export function measureMasks(
  masks: readonly (BinaryMask | Rle)[],
  width: number,
  height: number,
  options: MeasureOptions = {},
): Measurements {
  return measureSet(cropsFromMasks(masks, width, height, options.source), options);
}

interface Foreground {
  threshold: number;
  bright: boolean;
  pixels: number;
}

function foregroundOf(options: MeasureOptions): Foreground | null {
  const frame = options.frame;
  if (!frame) return null;
  const fixed = options.foregroundThreshold;
  if (fixed !== undefined && !(Number.isFinite(fixed) && fixed >= 0 && fixed <= 255)) {
    throw new SamstarError('ARGUMENT_INVALID', `foreground threshold must be a grey value in 0–255, got ${fixed}`);
  }
  const threshold = fixed ?? otsuThreshold(frame.grey);
  const bright = countAtLeast(frame.grey, threshold);
  const total = frame.grey.length;
  const polarity = options.foreground ?? 'auto';
  // 'auto': particles and nuclei are usually the minority of the frame, so the smaller side of
  // the threshold is taken as foreground.
  const isBright = polarity === 'bright' || (polarity === 'auto' && bright <= total - bright);
  return { threshold, bright: isBright, pixels: isBright ? bright : total - bright };
}

export function measureSet(set: InstanceSet, options: MeasureOptions = {}): Measurements {
  const { width, height } = set;
  const frame = options.frame;
  if (frame) {
    if (frame.width !== width || frame.height !== height || frame.grey.length !== width * height) {
      throw new SamstarError(
        'SIZE_MISMATCH',
        `${options.source ? `${options.source}: ` : ''}prediction is ${width}×${height} but the image is ${frame.width}×${frame.height}`,
        { hint: 'pass the image the masks were computed on' },
      );
    }
  }
  const ringWidth = options.ringWidth ?? 2;
  if (!Number.isInteger(ringWidth) || ringWidth < 1) {
    throw new SamstarError('ARGUMENT_INVALID', `ring width must be a positive integer, got ${ringWidth}`);
  }
  const foreground = foregroundOf(options);
  const context: IntensityContext | null = frame
    ? { grey: frame.grey, width, height, claims: set.claims, ringWidth, ring: options.ring ?? true, foreground }
    : null;

  const instances: InstanceMeasurement[] = [];
  let coveredForeground = 0;
  for (const crop of set.crops) {
    const boundary = boundaryOf(crop);
    const moments = secondMoments(crop);
    const convex = convexArea(crop);
    const { area, row0, col0, rows, cols } = crop;
    const perimeter = boundary.perimeter;
    const m: InstanceMeasurement = {
      label: crop.label,
      area,
      bbox: [row0, col0, row0 + rows, col0 + cols],
      centroid: [moments.centroidRow, moments.centroidCol],
      perimeter,
      equivalent_diameter: Math.sqrt((4 * area) / Math.PI),
      major_axis_length: moments.major,
      minor_axis_length: moments.minor,
      eccentricity: moments.eccentricity,
      orientation: moments.orientation,
      convex_area: convex,
      solidity: area / convex,
      circularity: perimeter > 0 ? (4 * Math.PI * area) / (perimeter * perimeter) : 0,
      aspect_ratio: Math.max(moments.major, 1) / Math.max(moments.minor, 1),
      touches_border: row0 === 0 || col0 === 0 || row0 + rows === height || col0 + cols === width,
    };
    if (context) {
      const stats = intensityOf(crop, boundary.pixels, context);
      m.mean_intensity = stats.mean;
      if (context.ring) {
        m.ring_mean_intensity = stats.ringMean;
        m.intensity_contrast = stats.mean - stats.ringMean;
      }
      m.boundary_gradient = stats.boundaryGradient;
      coveredForeground += stats.foregroundPixels;
    }
    instances.push(m);
  }

  const { covered, overlap } = set;

  const pixels = width * height;
  const frameMeasurement: FrameMeasurement = {
    width,
    height,
    count: instances.length,
    density: (instances.length / pixels) * 1e6,
    covered_pixels: covered,
    area_fraction: covered / pixels,
    overlap_pixels: overlap,
    overlap_fraction: covered > 0 ? overlap / covered : 0,
  };
  if (foreground) {
    frameMeasurement.foreground_threshold = foreground.threshold;
    frameMeasurement.foreground_polarity = foreground.bright ? 'bright' : 'dark';
    frameMeasurement.foreground_pixels = foreground.pixels;
    frameMeasurement.covered_foreground_pixels = coveredForeground;
    frameMeasurement.foreground_fraction = foreground.pixels / pixels;
    frameMeasurement.uncovered_foreground = foreground.pixels > 0 ? 1 - coveredForeground / foreground.pixels : 0;
  }
  return { instances, frame: frameMeasurement, set };
}
