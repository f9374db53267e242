import { nanometresPer } from '../util/units.js';
import type { MrcHeader } from './mrc.js';
import type { TiffTags } from './tiff-tags.js';

/**
 * How the pages of an image file map to frames and channels.
 *
 * A multi-page TIFF is a stack: every page is a frame unless the file says some pages are
 * channels. ImageJ hyperstacks (ImageDescription "ImageJ=… channels= slices= frames=") and
 * OME-TIFF (OME-XML with SizeC/SizeZ/SizeT and DimensionOrder) name their axes; a plain
 * multi-page TIFF is a list of pages. Frames are numbered from 0 and labelled `t0003` (a
 * time series), `z0003` (a z-stack) or `p0003` (pages, or both t and z > 1).
 *
 * Channels live either in pages (hyperstacks, OME) or in the samples of one page (a
 * two-sample TIFF whose second sample is not alpha). RGB pages stay colour images.
 *
 * Entry point: `stackLayout(tags, pages)`.
 */
export interface StackLayout {
  /** Frames in the file (time points × z slices). */
  readonly frames: number;
  /** Channels stored as pages (1 when none). */
  readonly pageChannels: number;
  /** Signal channels stored as samples of one page (grey = 1, RGB = 3, two-sample = 2; alpha not counted). */
  readonly sampleChannels: number;
  /** Whether the samples are an RGB colour image (kept as colour when no channel is chosen). */
  readonly rgb: boolean;
  /** Whether the last sample is alpha (dropped, never a channel). */
  readonly alpha: boolean;
  /** The letter of frame labels: t, z or p. */
  readonly axis: 't' | 'z' | 'p';
  /** Where the stack's layout came from, for messages. */
  readonly kind: 'ImageJ hyperstack' | 'OME-TIFF' | 'multi-page TIFF' | 'MRC stack' | 'MRC volume' | 'image';
  /** Nanometres per pixel from the file's metadata, when it has a physical one. */
  readonly pixelSizeNm?: number;
  /** The page (0-based) holding frame `frame` in page-channel `channel`. */
  pageOf(frame: number, channel: number): number;
}

/** Resolution tags in inches or centimetres give pixels this size or larger only when they are an editor's 72/96/300 dpi default, never a microscope's. */
const MAX_TAGGED_PIXEL_NM = 10_000;

export function stackLayout(tags: TiffTags | undefined, pages: number, sharpChannels: number): StackLayout {
  const samples = tags?.samplesPerPixel ?? sharpChannels;
  // Photometric 2 RGB, 6 YCbCr (JPEG-compressed colour): colour images.
  const photometricRgb = tags ? tags.photometric === 2 || tags.photometric === 6 : sharpChannels >= 3;
  // Alpha: an extra sample declared associated/unassociated alpha; without tags (PNG), sharp's 2 and 4.
  const alpha = tags ? tags.extraSamples.length > 0 && tags.extraSamples[tags.extraSamples.length - 1] !== 0 : sharpChannels === 2 || sharpChannels === 4;
  const signal = samples - (alpha ? 1 : 0);
  const rgb = photometricRgb && signal === 3;
  const base = { sampleChannels: Math.max(1, signal), rgb, alpha };
  const description = tags?.description ?? '';
  const physical = tags ? taggedPixelSize(tags) : undefined;
  if (description.startsWith('ImageJ=')) {
    const imagej = imageJLayout(description, pages, tags!);
    if (imagej) return { ...base, ...imagej };
  }
  if (description.includes('<OME') && description.includes('<Pixels')) {
    const ome = omeLayout(description, pages, samples);
    if (ome) return { ...base, ...ome, ...(ome.pixelSizeNm === undefined && physical !== undefined ? { pixelSizeNm: physical } : {}) };
  }
  return {
    ...base,
    frames: Math.max(1, pages),
    pageChannels: 1,
    axis: 'p',
    kind: pages > 1 ? 'multi-page TIFF' : 'image',
    ...(physical !== undefined ? { pixelSizeNm: physical } : {}),
    pageOf: (frame) => frame,
  };
}

/** An MRC file: every section a frame, one channel; ISPG 0 is a stack of images (p), else a volume (z). */
export function mrcLayout(header: MrcHeader): StackLayout {
  const volume = header.spaceGroup !== 0;
  return {
    frames: header.nz,
    pageChannels: 1,
    sampleChannels: 1,
    rgb: false,
    alpha: false,
    axis: volume && header.nz > 1 ? 'z' : 'p',
    kind: header.nz === 1 ? 'image' : volume ? 'MRC volume' : 'MRC stack',
    ...(header.pixelSizeNm !== undefined ? { pixelSizeNm: header.pixelSizeNm } : {}),
    pageOf: (frame) => frame,
  };
}

function taggedPixelSize(tags: TiffTags): number | undefined {
  if (tags.xResolution === undefined) return undefined;
  const per = tags.resolutionUnit === 3 ? 1e7 : tags.resolutionUnit === 2 ? 2.54e7 : undefined;
  if (per === undefined) return undefined;
  const nm = per / tags.xResolution;
  return nm < MAX_TAGGED_PIXEL_NM ? nm : undefined;
}

type AxisLayout = Pick<StackLayout, 'frames' | 'pageChannels' | 'axis' | 'kind' | 'pixelSizeNm' | 'pageOf'>;

/** ImageJ: "key=value" lines; pages are ordered channel fastest, then slice, then frame (czt). */
function imageJLayout(description: string, pages: number, tags: TiffTags): AxisLayout | undefined {
  const field = (key: string): string | undefined => new RegExp(`^${key}=(.*)$`, 'm').exec(description)?.[1]?.trim();
  const int = (key: string): number => Math.max(1, Number.parseInt(field(key) ?? '1', 10) || 1);
  const c = int('channels');
  const z = int('slices');
  const t = int('frames');
  if (c * z * t !== pages) return undefined;
  // ImageJ writes XResolution in pixels per `unit` (ResolutionUnit none); "micron" is its µm.
  const unit = field('unit')?.replace(/\\u00B5/gi, 'µ');
  const factor = unit ? nanometresPer(unit) : undefined;
  const pixelSizeNm = factor !== undefined && tags.xResolution ? factor / tags.xResolution : undefined;
  return {
    frames: z * t,
    pageChannels: c,
    axis: axisOf(z, t),
    kind: 'ImageJ hyperstack',
    ...(pixelSizeNm !== undefined ? { pixelSizeNm } : {}),
    pageOf: (frame, channel) => frame * c + channel,
  };
}

/** OME-XML of the first Image: sizes, plane order (DimensionOrder XY + a permutation of CZT) and PhysicalSizeX. */
function omeLayout(xml: string, pages: number, samples: number): AxisLayout | undefined {
  const pixels = /<(?:\w+:)?Pixels\b([^>]*)>/.exec(xml)?.[1];
  if (!pixels) return undefined;
  const attr = (name: string): string | undefined => new RegExp(`\\b${name}\\s*=\\s*"([^"]*)"`).exec(pixels)?.[1];
  const size = (name: string): number => Math.max(1, Number.parseInt(attr(name) ?? '1', 10) || 1);
  // RGB samples count in SizeC: the page channels are what is left.
  const c = Math.max(1, Math.round(size('SizeC') / Math.max(1, samples)));
  const z = size('SizeZ');
  const t = size('SizeT');
  if (c * z * t !== pages) return undefined;
  const order = (attr('DimensionOrder') ?? 'XYCZT').slice(2).toUpperCase();
  const extent: Record<string, number> = { C: c, Z: z, T: t };
  const stride: Record<string, number> = {};
  let s = 1;
  for (const axis of order) {
    stride[axis] = s;
    s *= extent[axis] ?? 1;
  }
  const physical = Number(attr('PhysicalSizeX'));
  const factor = nanometresPer(attr('PhysicalSizeXUnit') ?? 'µm');
  const pixelSizeNm = Number.isFinite(physical) && physical > 0 && factor !== undefined ? physical * factor : undefined;
  return {
    frames: z * t,
    pageChannels: c,
    axis: axisOf(z, t),
    kind: 'OME-TIFF',
    ...(pixelSizeNm !== undefined ? { pixelSizeNm } : {}),
    // Frames enumerate (t, z) with z fastest.
    pageOf: (frame, channel) => (frame % z) * stride.Z + Math.floor(frame / z) * stride.T + channel * stride.C,
  };
}

function axisOf(z: number, t: number): 't' | 'z' | 'p' {
  if (t > 1 && z === 1) return 't';
  if (z > 1 && t === 1) return 'z';
  return 'p';
}
