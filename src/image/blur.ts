/**
 * Separable Gaussian blur of a single-channel float image (rows, then
 * columns), kernel radius ceil(3σ), mirrored borders (no dark rim at the
 * edges, unlike zero padding). σ ≤ 0 returns a copy.
 */
export function gaussianBlur(data: Float32Array, width: number, height: number, sigma: number): Float32Array {
  if (!(sigma > 0)) return Float32Array.from(data);
  const kernel = gaussianKernel(sigma);
  const radius = (kernel.length - 1) / 2;
  const tmp = new Float32Array(width * height);
  const out = new Float32Array(width * height);
  const xs = mirroredIndices(width, radius);
  const ys = mirroredIndices(height, radius);
  const taps = kernel.length;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let s = 0;
      if (x >= radius && x + radius < width) {
        // Interior: the taps are contiguous, no mirror table (same taps, same order).
        const start = row + x - radius;
        for (let k = 0; k < taps; k++) s += kernel[k] * data[start + k];
      } else {
        for (let k = 0; k < taps; k++) s += kernel[k] * data[row + xs[x + k]];
      }
      tmp[row + x] = s;
    }
  }
  // Columns, a whole row at a time: tap k of every pixel in the row reads one contiguous source
  // row (a per-pixel walk down the column touches a new cache line per tap, several times slower
  // for wide kernels). The float64 sums take the taps in the same order as a per-pixel loop, so
  // the result is bit for bit the same.
  const acc = new Float64Array(width);
  for (let y = 0; y < height; y++) {
    acc.fill(0);
    for (let k = 0; k < kernel.length; k++) {
      const w = kernel[k];
      const src = ys[y + k] * width;
      for (let x = 0; x < width; x++) acc[x] += w * tmp[src + x];
    }
    out.set(acc, y * width);
  }
  return out;
}

/** Normalised 1-D Gaussian, length 2·ceil(3σ)+1. */
export function gaussianKernel(sigma: number): Float32Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const kernel = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let k = -radius; k <= radius; k++) {
    const v = Math.exp(-(k * k) / (2 * sigma * sigma));
    kernel[k + radius] = v;
    sum += v;
  }
  for (let k = 0; k < kernel.length; k++) kernel[k] /= sum;
  return kernel;
}

/** For output position p, source index of tap k is table[p + k] (p − radius + k, mirrored into [0, n)). */
function mirroredIndices(n: number, radius: number): Int32Array {
  const table = new Int32Array(n + 2 * radius);
  for (let j = 0; j < table.length; j++) {
    let i = j - radius;
    // Mirror (…2 1 0 | 0 1 2 … n−1 | n−1 n−2…); loop handles radii larger than the image.
    while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - i - 1;
    table[j] = i;
  }
  return table;
}
