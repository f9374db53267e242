/**
 * Immerkær's fast noise estimate (1996): the image convolved with the
 * difference of two Laplacians, N = [[1,−2,1],[−2,4,−2],[1,−2,1]], cancels
 * smooth structure; for white Gaussian noise of standard deviation σ the mean
 * of |N∗I| is 6σ·√(2/π) (the mean form), and its median is 6σ·0.6745 (the MAD
 * form, which edges inflate less). On at most `maxSamples` operator positions
 * (rows evenly strided), so it stays cheap on large frames. In image units.
 */
export function estimateNoise(data: Float32Array, w: number, h: number, maxSamples = 1 << 18): { sigma: number; mad: number } {
  if (w < 3 || h < 3) return { sigma: 0, mad: 0 };
  const stride = Math.max(1, Math.floor(((w - 2) * (h - 2)) / maxSamples));
  // |N∗I| ≤ 16·255 on 0–255 data; 1/4-level bins for the median.
  const bins = new Uint32Array(16 * 256 * 4 + 1);
  let sum = 0;
  let count = 0;
  for (let y = 1; y < h - 1; y += stride) {
    const r0 = (y - 1) * w;
    const r1 = y * w;
    const r2 = (y + 1) * w;
    for (let x = 1; x < w - 1; x++) {
      const v =
        data[r0 + x - 1] - 2 * data[r0 + x] + data[r0 + x + 1] -
        2 * (data[r1 + x - 1] - 2 * data[r1 + x] + data[r1 + x + 1]) +
        data[r2 + x - 1] - 2 * data[r2 + x] + data[r2 + x + 1];
      const a = v < 0 ? -v : v;
      sum += a;
      let b = (a * 4) | 0;
      if (b >= bins.length) b = bins.length - 1;
      bins[b]++;
      count++;
    }
  }
  const sigma = (Math.sqrt(Math.PI / 2) * (sum / count)) / 6;
  const half = count / 2;
  let cumulative = 0;
  let median = 0;
  for (let b = 0; b < bins.length; b++) {
    const c = bins[b];
    if (c > 0 && cumulative + c >= half) {
      median = (b + (half - cumulative) / c) / 4;
      break;
    }
    cumulative += c;
  }
  return { sigma, mad: (1.4826 * median) / 6 };
}

/** The mean-form estimate alone (σ in image units). */
export function estimateNoiseSigma(data: Float32Array, width: number, height: number): number {
  return estimateNoise(data, width, height).sigma;
}
