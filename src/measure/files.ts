import { loadFrame } from '../image/load.js';
import { readLabelPng } from '../masks/label-png.js';
import { measureLabels } from './measure.js';
import type { Measurements } from './types.js';

/** `samstar measure`: measure a label image file, with intensities when an image is given. */
export async function measureLabelFile(
  labelPath: string,
  options: { image?: string; ringWidth?: number; foreground?: 'auto' | 'bright' | 'dark' } = {},
): Promise<Measurements> {
  const label = await readLabelPng(labelPath);
  const frame = options.image ? await loadFrame(options.image) : undefined;
  return measureLabels(label, { frame, ringWidth: options.ringWidth, foreground: options.foreground, source: labelPath });
}
