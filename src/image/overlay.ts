import sharp from 'sharp';
import type { LabelImage } from '../masks/types.js';
import { SamstarError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import type { Frame } from './frame.js';
import { colourOf, INSTANCE_PALETTE, type Rgb } from './palette.js';

export interface OverlayOptions {
  /** Outline colours, cycled by label (default: INSTANCE_PALETTE). */
  readonly palette?: readonly Rgb[];
  /** 0–1: tint instance interiors with their colour at this opacity (default 0: outlines only). */
  readonly fill?: number;
}

/**
 * The frame in grey with every instance's outline in its palette colour.
 * Outline = pixels of the instance with a 4-neighbour outside it; the image
 * border counts as outside so instances cut by the edge get closed outlines.
 * Two touching instances both show their own outline, so a merge error and
 * a correct split look different.
 */
export function renderOverlayRgb(frame: Frame, label: LabelImage, options: OverlayOptions = {}): Uint8Array {
  const { width, height } = frame;
  if (label.width !== width || label.height !== height || label.data.length !== width * height) {
    throw new SamstarError(
      'SIZE_MISMATCH',
      `overlay: labels are ${label.width}×${label.height} but frame ${frame.source} is ${width}×${height}`,
    );
  }
  const palette = options.palette && options.palette.length > 0 ? options.palette : INSTANCE_PALETTE;
  const fill = Math.min(1, Math.max(0, options.fill ?? 0));
  const grey = frame.grey;
  const labels = label.data;
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const g = Math.round(grey[i]);
      const l = labels[i];
      let r = g;
      let gg = g;
      let b = g;
      if (l !== 0) {
        const colour = colourOf(l, palette);
        const edge =
          x === 0 || x === width - 1 || y === 0 || y === height - 1 ||
          labels[i - 1] !== l || labels[i + 1] !== l || labels[i - width] !== l || labels[i + width] !== l;
        if (edge) {
          [r, gg, b] = colour;
        } else if (fill > 0) {
          r = Math.round(g + fill * (colour[0] - g));
          gg = Math.round(g + fill * (colour[1] - g));
          b = Math.round(g + fill * (colour[2] - g));
        }
      }
      rgb[3 * i] = r;
      rgb[3 * i + 1] = gg;
      rgb[3 * i + 2] = b;
    }
  }
  return rgb;
}

/** The overlay as an 8-bit RGB PNG. */
export async function renderOverlayPng(frame: Frame, label: LabelImage, options: OverlayOptions = {}): Promise<Buffer> {
  const rgb = renderOverlayRgb(frame, label, options);
  return sharp(rgb, { raw: { width: frame.width, height: frame.height, channels: 3 } }).png().toBuffer();
}

/** Write the overlay PNG atomically (readers never see half a file). */
export async function writeOverlayPng(path: string, frame: Frame, label: LabelImage, options: OverlayOptions = {}): Promise<void> {
  await writeFileAtomic(path, await renderOverlayPng(frame, label, options));
}
