/**
 * Bilinear resize as Pillow does it (what segment-anything's ResizeLongestSide
 * uses via torchvision on a uint8 PIL image): a triangle filter whose support
 * widens when shrinking (antialiasing), horizontal pass then vertical pass, each
 * rounded and clipped to 0–255. Input and output are interleaved uint8.
 */
export function resizeBilinearUint8(
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
): Uint8Array {
  if (outWidth === width && outHeight === height) return src.slice();
  const horizontal = resizeAxis(src, width, height, channels, outWidth, true);
  return resizeAxis(horizontal, outWidth, height, channels, outHeight, false);
}

interface Coefficients {
  readonly start: Int32Array;
  readonly count: Int32Array;
  readonly weights: Float64Array;
  readonly stride: number;
}

/** Pillow's precompute_coeffs for the bilinear (triangle) filter. */
function coefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 1 * filterScale;
  const stride = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * stride);
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const ss = 1 / filterScale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let total = 0;
    for (let x = 0; x < xmax; x++) {
      const t = Math.abs((x + xmin - center + 0.5) * ss);
      const w = t < 1 ? 1 - t : 0;
      weights[i * stride + x] = w;
      total += w;
    }
    if (total !== 0) for (let x = 0; x < xmax; x++) weights[i * stride + x] /= total;
    start[i] = xmin;
    count[i] = xmax;
  }
  return { start, count, weights, stride };
}

function resizeAxis(src: Uint8Array, width: number, height: number, channels: number, outSize: number, horizontal: boolean): Uint8Array {
  const inSize = horizontal ? width : height;
  const c = coefficients(inSize, outSize);
  const outW = horizontal ? outSize : width;
  const outH = horizontal ? height : outSize;
  const out = new Uint8Array(outW * outH * channels);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const i = horizontal ? x : y;
      const s = c.start[i];
      const n = c.count[i];
      for (let ch = 0; ch < channels; ch++) {
        let acc = 0;
        for (let k = 0; k < n; k++) {
          const w = c.weights[i * c.stride + k];
          const sample = horizontal ? src[(y * width + s + k) * channels + ch] : src[((s + k) * width + x) * channels + ch];
          acc += w * sample;
        }
        const v = Math.round(acc);
        out[(y * outW + x) * channels + ch] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return out;
}
