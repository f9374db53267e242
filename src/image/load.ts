import { stat } from 'node:fs/promises';
import { SamstarError } from '../util/errors.js';
import { describePixelSize } from '../util/units.js';
import type { Frame } from './frame.js';
import { decodeImageBuffer, decodeImageFile, inspectImageBuffer, inspectImageFile, type ImageInfo } from './decode.js';
import { formatFrameRef, parseFrameRef } from './frame-ref.js';
import { buildFrame, type FrameOptions } from './from-pixels.js';
import type { StackLayout } from './stack.js';

export { frameFromPixels, type FrameOptions, type PixelSource } from './from-pixels.js';
export { SUPPORTED_IMAGE_FORMATS } from './decode.js';
export { DEFAULT_STRETCH, type StretchOption } from './stretch.js';
export { frameRefStem, parseFrameRef } from './frame-ref.js';

/** What to read from a file besides the default: a channel, a pixel size that overrides the file's. */
export interface LoadOptions extends FrameOptions {
  /** The signal channel (0-based) of a multi-channel image; required where a file has several non-colour channels. */
  readonly channel?: number;
  /** Nanometres per pixel, overriding what the file says (`--pixel-size`, task `data.pixel_size`). */
  readonly pixelSizeNm?: number;
}

/**
 * Load one frame: an image file (PNG, JPEG, TIFF; 8/16-bit or float; grey, RGB, RGBA), or
 * one frame of a stack written as a frame reference (`stack.tif#t0003`, see frame-ref.ts).
 * Alpha is dropped, grey-as-RGB collapsed to one channel, the samples percentile-stretched
 * to 0–255 and hashed by content; the pixel size of the file's metadata is kept.
 *
 * Nothing is dropped silently: a file holding several frames must be named frame by frame
 * (`listFrames` does that), and a file with several signal channels needs `channel`.
 *
 * Errors: IMAGE_NOT_FOUND (no such file), IMAGE_UNSUPPORTED (not a readable image /
 * unsupported format or sample type), IMAGE_UNREADABLE (corrupt or truncated data),
 * ARGUMENT_INVALID (bad stretch, a stack named as one frame, a missing or out-of-range
 * channel) — each naming the path.
 */
export async function loadFrame(ref: string, options: LoadOptions = {}): Promise<Frame> {
  const { file, frame } = parseFrameRef(ref);
  const info = await inspectCached(file);
  const { layout } = info;
  if (!frame && layout.frames > 1) {
    throw new SamstarError('ARGUMENT_INVALID', `${file}: a ${layout.kind} of ${layout.frames} frames; this command reads one frame`, {
      hint: `name one frame as ${formatFrameRef(file, layout.axis, 0)} (… ${formatFrameRef(file, layout.axis, layout.frames - 1)}), or give the file to segment / train / watch, which read every frame`,
    });
  }
  const index = frame?.index ?? 0;
  if (frame && (index >= layout.frames || frame.axis !== layout.axis)) {
    throw new SamstarError('ARGUMENT_INVALID', `${ref}: ${file} holds ${layout.frames} frame(s) labelled ${layout.axis}0000…${layout.axis}${String(layout.frames - 1).padStart(4, '0')}`, {
      hint: 'frames are numbered from 0',
    });
  }
  const { pageChannel, sample } = pickChannel(file, layout, options.channel);
  const raw = await decodeImageFile(file, {
    ...(info.pages > 1 ? { page: layout.pageOf(index, pageChannel) } : {}),
    ...(sample !== undefined ? { sample } : {}),
  });
  const built = buildFrame(ref, raw, options, 'IMAGE_UNSUPPORTED');
  const pixelSizeNm = options.pixelSizeNm ?? layout.pixelSizeNm;
  return pixelSizeNm !== undefined ? { ...built, pixelSizeNm } : built;
}

/**
 * One frame from encoded bytes in memory (an HTTP upload), as `loadFrame` reads a file of
 * the same bytes. A stack is refused (one request, one frame), a channel is picked as for files.
 */
export async function frameFromBytes(bytes: Uint8Array, name: string, options: LoadOptions = {}): Promise<Frame> {
  const { layout } = await inspectImageBuffer(bytes, name);
  if (layout.frames > 1) {
    throw new SamstarError('ARGUMENT_INVALID', `${name}: a ${layout.kind} of ${layout.frames} frames; one request segments one frame`, {
      hint: 'send the frames one per request (or segment the file with samstar segment, which reads every frame)',
    });
  }
  const { pageChannel, sample } = pickChannel(name, layout, options.channel);
  const raw = await decodeImageBuffer(bytes, name, { ...(layout.pageChannels > 1 ? { page: layout.pageOf(0, pageChannel) } : {}), ...(sample !== undefined ? { sample } : {}) });
  const built = buildFrame(name, raw, options, 'IMAGE_UNREADABLE');
  const pixelSizeNm = options.pixelSizeNm ?? layout.pixelSizeNm;
  return pixelSizeNm !== undefined ? { ...built, pixelSizeNm } : built;
}

/**
 * The frames of image files as frame references: a single-frame file as itself, every
 * frame of a stack as `FILE#t0003` (axis letter from the metadata). A channel choice is
 * checked here, before any pixel is read, so a batch fails on its first file, not its last.
 */
export async function listFrames(files: readonly string[], options: { channel?: number } = {}): Promise<string[]> {
  const out: string[] = [];
  for (const file of files) out.push(...framesOf(file, await inspectCached(file), options.channel));
  return out;
}

/** Every frame of one file, loaded. */
export async function loadFrames(file: string, options: LoadOptions = {}): Promise<Frame[]> {
  const frames: Frame[] = [];
  for (const ref of await listFrames([file], options)) frames.push(await loadFrame(ref, options));
  return frames;
}

/**
 * Headers of recently read files, keyed by path and checked against size and mtime: the frames
 * of a stack are loaded one by one, and counting a TIFF's pages walks all of them, so without
 * this a stack of n pages would cost n² page lookups.
 */
const inspected = new Map<string, { size: number; mtimeMs: number; info: ImageInfo }>();
const INSPECTED_MAX = 64;

async function inspectCached(file: string): Promise<ImageInfo> {
  const st = await stat(file).catch(() => undefined);
  const hit = st && inspected.get(file);
  if (st && hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return hit.info;
  const info = await inspectImageFile(file);
  if (st) {
    if (inspected.size >= INSPECTED_MAX) inspected.delete(inspected.keys().next().value!);
    inspected.set(file, { size: st.size, mtimeMs: st.mtimeMs, info });
  }
  return info;
}

function framesOf(file: string, info: ImageInfo, channel: number | undefined): string[] {
  pickChannel(file, info.layout, channel);
  const { frames, axis } = info.layout;
  return frames === 1 ? [file] : Array.from({ length: frames }, (_, i) => formatFrameRef(file, axis, i));
}

/** One line on what a file holds, for logs: "3 frames (t), 2 channels, 0.65 µm/pixel". */
export function describeLayout(layout: StackLayout): string {
  const channels = layout.pageChannels > 1 ? layout.pageChannels : layout.sampleChannels;
  const parts = [`${layout.frames} frame${layout.frames === 1 ? '' : 's'}${layout.frames > 1 ? ` (${layout.axis})` : ''}`];
  if (channels > 1) parts.push(`${channels} channels${layout.rgb && layout.pageChannels === 1 ? ' (RGB)' : ''}`);
  if (layout.pixelSizeNm !== undefined) parts.push(`${describePixelSize(layout.pixelSizeNm)}/pixel`);
  return `${layout.kind}: ${parts.join(', ')}`;
}

/**
 * The rule for channels (README "Stacks, channels and units"): RGB stays a colour image
 * unless a channel is chosen; channels in pages (ImageJ, OME) or in non-colour samples
 * (a two-sample TIFF) need a choice; alpha is never a channel.
 */
function pickChannel(file: string, layout: StackLayout, channel: number | undefined): { pageChannel: number; sample?: number } {
  const inPages = layout.pageChannels > 1;
  const count = inPages ? layout.pageChannels : layout.sampleChannels;
  if (channel !== undefined && (!Number.isInteger(channel) || channel < 0 || channel >= count)) {
    throw new SamstarError('ARGUMENT_INVALID', `${file}: channel ${channel} does not exist; the image has ${count} channel${count === 1 ? '' : 's'} (0${count > 1 ? `…${count - 1}` : ''})`, {
      hint: 'channels are numbered from 0 (--channel, task data.channel)',
    });
  }
  if (channel === undefined && count > 1 && !(layout.rgb && !inPages)) {
    throw new SamstarError('ARGUMENT_INVALID', `${file}: ${describeLayout(layout)}; samstar segments one channel and will not drop the others silently`, {
      hint: `pick the signal channel with --channel 0…${count - 1} (task config: data.channel)`,
    });
  }
  if (inPages) return { pageChannel: channel ?? 0 };
  // A sample channel: extracted when chosen from several (RGB included); a grey image's channel 0 is itself.
  return { pageChannel: 0, ...(channel !== undefined && count > 1 ? { sample: channel } : {}) };
}
