import type { Frame } from './frame.js';
import { decodeImageFile } from './decode.js';
import { buildFrame, type FrameOptions } from './from-pixels.js';

export { frameFromPixels, type FrameOptions, type PixelSource } from './from-pixels.js';
export { SUPPORTED_IMAGE_FORMATS } from './decode.js';
export { DEFAULT_STRETCH, type StretchOption } from './stretch.js';

/**
 * Load an image file (PNG, JPEG, TIFF; 8/16-bit or float; grey, RGB, RGBA) as a
 * Frame: alpha dropped, grey-as-RGB collapsed to one channel, percentile-stretched
 * to 0–255, hashed by content.
 *
 * Errors: IMAGE_NOT_FOUND (no such file), IMAGE_UNSUPPORTED (not a readable
 * image / unsupported format or sample type), IMAGE_UNREADABLE (corrupt or
 * truncated data), ARGUMENT_INVALID (bad stretch) — each naming the path.
 */
export async function loadFrame(path: string, options: FrameOptions = {}): Promise<Frame> {
  const raw = await decodeImageFile(path);
  return buildFrame(path, raw, options, 'IMAGE_UNSUPPORTED');
}
