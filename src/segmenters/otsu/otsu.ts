import { gaussianBlur } from '../../image/blur.js';
import type { Frame } from '../../image/frame.js';
import { labelComponents } from '../../masks/components.js';
import type { LabelImage } from '../../masks/types.js';
import { countAtLeast, otsuThreshold } from '../../measure/frame-stats.js';

/**
 * The classical, weight-free baseline a promptable model has to beat: smooth the grey frame,
 * threshold it at Otsu's level, and call every connected component of the foreground an instance
 * (what "ten lines of scikit-image" do: gaussian → threshold_otsu → label → remove_small_objects).
 * It never separates touching objects; that is exactly the gap a model should close.
 */
export interface OtsuOptions {
  /** Gaussian σ in pixels before thresholding: suppresses shot noise so the foreground is not speckled (default 1.5). */
  readonly sigma?: number;
  /**
   * Which side of the threshold is foreground. 'auto' (default) takes the smaller side: particles and
   * nuclei are usually the minority of a micrograph, whether bright on dark or dark on bright.
   */
  readonly polarity?: 'auto' | 'bright' | 'dark';
  /** Components smaller than this many pixels are noise and dropped (default 10: keeps ~4 px particles). */
  readonly minArea?: number;
  /** 8 (default, as skimage.measure.label on 2-D) or 4. */
  readonly connectivity?: 4 | 8;
}

export interface OtsuResult {
  /** Instances 1..count in raster order of their first pixel; 0 = background. */
  readonly labels: LabelImage;
  readonly count: number;
  /** Otsu's threshold on the smoothed grey frame (0–255); foreground is ≥ it (bright) or < it (dark). */
  readonly threshold: number;
  readonly polarity: 'bright' | 'dark';
}

/**
 * Smoothed Otsu + connected components on `frame.grey`, which is already percentile-stretched to
 * 0–255 by the loader, so 8-bit, 12-bit and 16-bit data get the same threshold behaviour. Pure:
 * the same frame and options always give the same labels.
 */
export function otsuSegment(frame: Frame, options: OtsuOptions = {}): OtsuResult {
  const { width, height } = frame;
  const sigma = options.sigma ?? 1.5;
  const minArea = options.minArea ?? 10;
  const smooth = gaussianBlur(frame.grey, width, height, sigma);
  const threshold = otsuThreshold(smooth);
  const brightCount = countAtLeast(smooth, threshold);
  const polarity = options.polarity === 'bright' || options.polarity === 'dark' ? options.polarity : brightCount <= smooth.length - brightCount ? 'bright' : 'dark';

  const foreground = new Uint8Array(width * height);
  for (let i = 0; i < foreground.length; i++) foreground[i] = (smooth[i] >= threshold) === (polarity === 'bright') ? 1 : 0;
  const components = labelComponents(foreground, width, height, options.connectivity ?? 8);

  // Renumber the kept components 1..count (raster order preserved), dropping the small ones.
  const renumber = new Uint32Array(components.count + 1);
  let count = 0;
  for (let l = 1; l <= components.count; l++) if (components.areas[l] >= minArea) renumber[l] = ++count;
  const data = new Uint32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = renumber[components.labels[i]];
  return { labels: { width, height, data }, count, threshold, polarity };
}
