import type { Frame } from '../../image/frame.js';
import { resizeBilinearUint8 } from '../../image/resize.js';
import type { BoxXYXY } from '../../masks/types.js';
import type { ModelFamily } from './onnx-layout.js';

/** SAM 1 / MobileSAM input resolution (long side) and pixel statistics. */
export const SAM_INPUT_SIZE = 1024;
export const PIXEL_MEAN = [123.675, 116.28, 103.53] as const;
export const PIXEL_STD = [58.395, 57.12, 57.375] as const;

/** Size after resizing the long side to `target`: floor(x·scale + 0.5). */
export function preprocessShape(height: number, width: number, target = SAM_INPUT_SIZE): { height: number; width: number } {
  const scale = target / Math.max(height, width);
  return { height: Math.floor(height * scale + 0.5), width: Math.floor(width * scale + 0.5) };
}

/** RGB uint8 of a crop of the frame (grey repeated to three channels), as SAM's predictor receives it. */
export function cropToRgbUint8(frame: Frame, box: BoxXYXY): { data: Uint8Array; width: number; height: number } {
  const [x0, y0, x1, y1] = box;
  const width = x1 - x0;
  const height = y1 - y0;
  const out = new Uint8Array(width * height * 3);
  const c = frame.channels;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const src = ((y + y0) * frame.width + (x + x0)) * c;
      const dst = (y * width + x) * 3;
      for (let ch = 0; ch < 3; ch++) {
        const v = Math.round(frame.pixels[src + (c === 3 ? ch : 0)]);
        out[dst + ch] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return { data: out, width, height };
}

export interface ModelInput {
  /** float32 tensor data for the encoder. */
  readonly data: Float32Array;
  readonly dims: number[];
  /** Size of the resized image inside the 1024 frame (before padding). */
  readonly resized: { height: number; width: number };
}

/** Resize the crop so its long side is 1024 (Pillow bilinear on uint8). */
function resizeCrop(frame: Frame, box: BoxXYXY): { data: Uint8Array; width: number; height: number } {
  const rgb = cropToRgbUint8(frame, box);
  const size = preprocessShape(rgb.height, rgb.width);
  const data = resizeBilinearUint8(rgb.data, rgb.width, rgb.height, 3, size.width, size.height);
  return { data, width: size.width, height: size.height };
}

/** [1,3,1024,1024]: (rgb − mean) / std, zero-padded bottom and right (padding equals the mean colour). */
export function preprocessNchw(frame: Frame, box: BoxXYXY): ModelInput {
  const resized = resizeCrop(frame, box);
  const n = SAM_INPUT_SIZE;
  const data = new Float32Array(3 * n * n);
  for (let ch = 0; ch < 3; ch++) {
    const mean = PIXEL_MEAN[ch];
    const std = PIXEL_STD[ch];
    const plane = ch * n * n;
    for (let y = 0; y < resized.height; y++) {
      for (let x = 0; x < resized.width; x++) {
        data[plane + y * n + x] = (resized.data[(y * resized.width + x) * 3 + ch] - mean) / std;
      }
    }
  }
  return { data, dims: [1, 3, n, n], resized: { height: resized.height, width: resized.width } };
}

/** [H, W, 3] float 0–255 with the long side 1024: for encoders that normalise and pad in-graph. */
export function preprocessHwc(frame: Frame, box: BoxXYXY): ModelInput {
  const resized = resizeCrop(frame, box);
  return {
    data: Float32Array.from(resized.data),
    dims: [resized.height, resized.width, 3],
    resized: { height: resized.height, width: resized.width },
  };
}

/**
 * [1,3,1024,1024] for SAM 2: the crop stretched to the square (aspect ratio not
 * kept, no padding; SAM2Transforms' Resize((1024, 1024))), then (rgb − mean) / std.
 */
export function preprocessStretched(frame: Frame, box: BoxXYXY): ModelInput {
  const rgb = cropToRgbUint8(frame, box);
  const n = SAM_INPUT_SIZE;
  const resized = resizeBilinearUint8(rgb.data, rgb.width, rgb.height, 3, n, n);
  const data = new Float32Array(3 * n * n);
  for (let ch = 0; ch < 3; ch++) {
    const mean = PIXEL_MEAN[ch];
    const std = PIXEL_STD[ch];
    const plane = ch * n * n;
    for (let i = 0; i < n * n; i++) data[plane + i] = (resized[i * 3 + ch] - mean) / std;
  }
  return { data, dims: [1, 3, n, n], resized: { height: n, width: n } };
}

/** Where a crop lies in the model's 1024 frame: long side 1024 with the aspect ratio kept (SAM 1), or the whole square (SAM 2). */
export function modelFrameShape(height: number, width: number, family: ModelFamily = 'sam1'): { height: number; width: number } {
  return family === 'sam2' ? { height: SAM_INPUT_SIZE, width: SAM_INPUT_SIZE } : preprocessShape(height, width);
}

/**
 * Prompt coordinates from crop pixels to the 1024 frame: x·new_w/w, y·new_h/h
 * (SAM 2: x·1024/w and y·1024/h, each axis on its own, as its transform_coords).
 */
export function scaleCoords(x: number, y: number, cropWidth: number, cropHeight: number, family: ModelFamily = 'sam1'): [number, number] {
  const size = modelFrameShape(cropHeight, cropWidth, family);
  return [x * (size.width / cropWidth), y * (size.height / cropHeight)];
}
