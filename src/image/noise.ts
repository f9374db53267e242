/**
 * Immerkær's fast noise estimate (1996): the image convolved with the
 * difference of two Laplacians, [[1,−2,1],[−2,4,−2],[1,−2,1]], cancels
 * smooth structure; the mean absolute response of white Gaussian noise of
 * standard deviation σ is σ·6·√(2/π). Robust on microscopy frames (edges
 * bias it upwards only slightly). Returns σ in the image's units.
 */
export function estimateNoiseSigma(data: Float32Array, width: number, height: number): number {
  if (width < 3 || height < 3) return 0;
  let sum = 0;
  for (let y = 1; y < height - 1; y++) {
    const up = (y - 1) * width;
    const row = y * width;
    const down = (y + 1) * width;
    for (let x = 1; x < width - 1; x++) {
      const v =
        data[up + x - 1] - 2 * data[up + x] + data[up + x + 1] -
        2 * data[row + x - 1] + 4 * data[row + x] - 2 * data[row + x + 1] +
        data[down + x - 1] - 2 * data[down + x] + data[down + x + 1];
      sum += Math.abs(v);
    }
  }
  return (Math.sqrt(Math.PI / 2) * sum) / (6 * (width - 2) * (height - 2));
}
