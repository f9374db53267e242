import { loadFrame } from '../image/load.js';
import { readLabelPng } from '../masks/label-png.js';
import { measureLabels } from './measure.js';
import type { Measurements } from './types.js';

/**
 * `samstar measure`: measure a label image file, with intensities when an image is given.
 * The pixel size (nm) is the flag's, else the image's metadata (OME, ImageJ, TIFF
 * resolution); undefined when neither says.
 */
export async function measureLabelFile(
  labelPath: string,
  options: { image?: string; ringWidth?: number; foreground?: 'auto' | 'bright' | 'dark'; channel?: number; pixelSizeNm?: number } = {},
): Promise<Measurements & { readonly pixelSizeNm?: number }> {
  const label = await readLabelPng(labelPath);
  const frame = options.image ? await loadFrame(options.image, { channel: options.channel, pixelSizeNm: options.pixelSizeNm }) : undefined;
  const measurements = measureLabels(label, { frame, ringWidth: options.ringWidth, foreground: options.foreground, source: labelPath });
  const pixelSizeNm = options.pixelSizeNm ?? frame?.pixelSizeNm;
  return pixelSizeNm !== undefined ? { ...measurements, pixelSizeNm } : measurements;
}
