import { gaussianKernel } from './blur.js';

/**
 * Multi-scale Laplacian-of-Gaussian responses on a small pyramid, for cheap
 * blob descriptors (frame features) and blob detectors.
 *
 * The scale-normalised LoG, σ²·∇²(G_σ ∗ I), is dimensionless in space: the same
 * blob gives the same response whether it is measured at full resolution with
 * σ px or at half resolution with σ/2 px. So each scale is computed on the
 * coarsest pyramid level where σ is still ≥ 1 level pixel, which keeps every
 * Gaussian kernel short (≤ 13 taps) and the cost near that of two full-level
 * passes, whatever the largest σ.
 *
 * Levels are built by 2×2 box averaging. The blur a level already carries from
 * the averaging (a box of b px has variance (b² − 1)/12) is subtracted from the
 * Gaussian applied there, so σ is the total blur relative to the input. A σ
 * smaller than what the level (or the input, `priorVariance`) already carries is
 * measured at that carried blur instead.
 */

export interface GreyImage {
  readonly data: Float32Array;
  readonly width: number;
  readonly height: number;
}

/** Mean over f×f blocks (edge blocks average the pixels they have). f = 1 returns the input itself. */
export function boxDownsample(image: GreyImage, factor: number): GreyImage {
  const f = Math.max(1, Math.floor(factor));
  if (f === 1) return image;
  // Powers of two: repeated 2×2 means (exactly the f×f mean where the sides divide; several times faster).
  if ((f & (f - 1)) === 0) {
    let out = image;
    for (let g = f; g > 1; g >>= 1) out = halve(out);
    return out;
  }
  const { data, width, height } = image;
  const w = Math.ceil(width / f);
  const h = Math.ceil(height / f);
  const column = new Int32Array(width);
  for (let x = 0; x < width; x++) column[x] = (x / f) | 0;
  const sums = new Float64Array(w * h);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const out = ((y / f) | 0) * w;
    for (let x = 0; x < width; x++) sums[out + column[x]] += data[row + x];
  }
  const result = new Float32Array(w * h);
  for (let by = 0; by < h; by++) {
    const rows = Math.min(f, height - by * f);
    for (let bx = 0; bx < w; bx++) {
      const cols = Math.min(f, width - bx * f);
      result[by * w + bx] = sums[by * w + bx] / (rows * cols);
    }
  }
  return { data: result, width: w, height: h };
}

/** 2×2 mean, the pyramid step (odd last row/column averaged over what is there). */
function halve(image: GreyImage): GreyImage {
  const { data, width, height } = image;
  const w = (width + 1) >> 1;
  const h = (height + 1) >> 1;
  const out = new Float32Array(w * h);
  const evenW = width >> 1;
  for (let y = 0; y < h; y++) {
    const r0 = 2 * y * width;
    const r1 = 2 * y + 1 < height ? r0 + width : r0;
    const o = y * w;
    for (let x = 0; x < evenW; x++) {
      const i = 2 * x;
      out[o + x] = 0.25 * (data[r0 + i] + data[r0 + i + 1] + data[r1 + i] + data[r1 + i + 1]);
    }
    if (w > evenW) out[o + evenW] = 0.5 * (data[r0 + width - 1] + data[r1 + width - 1]);
  }
  return { data: out, width: w, height: h };
}

/**
 * Separable Gaussian blur with mirrored borders: the same result as
 * `gaussianBlur` in blur.ts (same kernel, same mirroring), with the interior
 * taken without index tables (several times faster for the short kernels used here).
 */
export function fastGaussianBlur(image: GreyImage, sigma: number): Float32Array {
  const { data, width: w, height: h } = image;
  if (!(sigma > 0)) return Float32Array.from(data);
  const kernel = gaussianKernel(sigma);
  const r = (kernel.length - 1) >> 1;
  // Symmetric kernel: centre tap and one weight per distance (half the multiplies).
  const k = Float64Array.from(kernel.subarray(r));
  const tmp = new Float32Array(w * h);
  const out = new Float32Array(w * h);
  const mirror = (i: number, n: number): number => {
    while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - i - 1;
    return i;
  };
  // Rows.
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      const c = row + x;
      let s = k[0] * data[c];
      if (x >= r && x < w - r) {
        for (let t = 1; t <= r; t++) s += k[t] * (data[c - t] + data[c + t]);
      } else {
        for (let t = 1; t <= r; t++) s += k[t] * (data[row + mirror(x - t, w)] + data[row + mirror(x + t, w)]);
      }
      tmp[c] = s;
    }
  }
  // Columns: whole rows at a time (cache-friendly).
  for (let y = 0; y < h; y++) {
    const o = y * w;
    const k0 = k[0];
    for (let x = 0; x < w; x++) out[o + x] = k0 * tmp[o + x];
    for (let t = 1; t <= r; t++) {
      const up = mirror(y - t, h) * w;
      const down = mirror(y + t, h) * w;
      const kt = k[t];
      for (let x = 0; x < w; x++) out[o + x] += kt * (tmp[up + x] + tmp[down + x]);
    }
  }
  return out;
}

/** 5-point Laplacian with replicated borders, times `scale`. */
export function laplacian5(image: GreyImage, scale = 1): Float32Array {
  const { data, width: w, height: h } = image;
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    const up = (y > 0 ? y - 1 : y) * w;
    const down = (y < h - 1 ? y + 1 : y) * w;
    for (let x = 0; x < w; x++) {
      const c = data[row + x];
      const left = data[row + (x > 0 ? x - 1 : x)];
      const right = data[row + (x < w - 1 ? x + 1 : x)];
      out[row + x] = scale * (left + right + data[up + x] + data[down + x] - 4 * c);
    }
  }
  return out;
}

export interface LogResponse {
  /** σ relative to the input image's pixels. */
  readonly sigma: number;
  /** Pyramid level the response lives on (its pixels are 2^level input pixels). */
  readonly level: number;
  /** σ²·∇²(G_σ ∗ I) on that level: negative at the centre of bright blobs, positive at dark ones. */
  readonly response: GreyImage;
}

/**
 * Scale-normalised LoG at each σ (input pixels). `priorVariance` is the blur
 * (variance, input px²) the input already carries, e.g. from an earlier box
 * downsampling; it is taken off the Gaussians applied here. `minLevelSigma`
 * (default 1) is the smallest σ, in level pixels, a level may measure: larger
 * values keep finer levels (more accurate peaks, more work).
 */
export function scaleNormalisedLog(image: GreyImage, sigmas: readonly number[], priorVariance = 0, options: { minLevelSigma?: number } = {}): LogResponse[] {
  const levels: GreyImage[] = [image];
  // A σ goes to the coarsest level where it is still ≥ minLevelSigma level pixels (default 1).
  const minLevelSigma = options.minLevelSigma ?? 1;
  const levelOf = (s: number): number => Math.max(0, Math.floor(Math.log2(s / minLevelSigma)));
  return sigmas.map((sigma) => {
    let level = levelOf(sigma);
    // Never shrink a level below 8 px on its short side: coarser is not cheaper there, only worse.
    while (level > 0 && Math.min(image.width, image.height) >> level < 8) level--;
    while (levels.length <= level) levels.push(boxDownsample(levels[levels.length - 1], 2));
    const base = levels[level];
    const scale = 2 ** level;
    // Variance carried by the level, in level px²: the input's own prior plus a box of 2^level input px.
    const carried = (priorVariance + (scale * scale - 1) / 12) / (scale * scale);
    const target = sigma / scale;
    const extra = Math.sqrt(Math.max(0, target * target - carried));
    const blurred = extra > 0.05 ? fastGaussianBlur(base, extra) : base.data;
    // A σ finer than the blur the level already carries is measured at that blur (normalised by it).
    const t2 = Math.max(target * target, carried);
    const lap = laplacian5({ data: blurred, width: base.width, height: base.height }, t2);
    return { sigma, level, response: { data: lap, width: base.width, height: base.height } };
  });
}

/**
 * Bilinear interpolation of a pyramid level back onto the input's pixel grid (`width` × `height`):
 * input pixel x reads level coordinate (x + 0.5)/2^level − 0.5, clamped at the edges (the level's
 * pixels are the means of 2^level-px blocks, so their centres sit there).
 */
export function upsampleLevel(level: GreyImage, factor: number, width: number, height: number): Float32Array {
  const { data, width: lw, height: lh } = level;
  const out = new Float32Array(width * height);
  if (factor === 1 && lw === width && lh === height) {
    out.set(data);
    return out;
  }
  // Per column: the two level columns and the weight of the right one (the same for every row).
  const x0 = new Int32Array(width);
  const x1 = new Int32Array(width);
  const fx = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const u = Math.min(lw - 1, Math.max(0, (x + 0.5) / factor - 0.5));
    x0[x] = Math.floor(u);
    x1[x] = Math.min(lw - 1, x0[x] + 1);
    fx[x] = u - x0[x];
  }
  const top = new Float32Array(width);
  const bottom = new Float32Array(width);
  for (let y = 0; y < height; y++) {
    const v = Math.min(lh - 1, Math.max(0, (y + 0.5) / factor - 0.5));
    const y0 = Math.floor(v);
    const y1 = Math.min(lh - 1, y0 + 1);
    const fy = v - y0;
    const r0 = y0 * lw;
    const r1 = y1 * lw;
    for (let x = 0; x < width; x++) {
      const a = data[r0 + x0[x]];
      const w = fx[x];
      top[x] = a + w * (data[r0 + x1[x]] - a);
      const c = data[r1 + x0[x]];
      bottom[x] = c + w * (data[r1 + x1[x]] - c);
    }
    const o = y * width;
    for (let x = 0; x < width; x++) out[o + x] = top[x] + fy * (bottom[x] - top[x]);
  }
  return out;
}
