import type { InstanceCrop } from './types.js';

/**
 * Centroid and the inertia-tensor quantities of scikit-image's `regionprops`, from the region's
 * raw second moments (pixel centres at integer coordinates, no ±1/12 pixel-extent term):
 * with var_r = μ20/A, var_c = μ02/A, cov = μ11/A, the tensor is [[var_c, −cov], [−cov, var_r]];
 * λ1 ≥ λ2 its eigenvalues (clipped at 0); major = 4√λ1, minor = 4√λ2, eccentricity = √(1 − λ2/λ1),
 * orientation = ½·atan2(2·cov, var_r − var_c).
 *
 * One deliberate difference: when var_r and var_c are exactly equal in floating point, skimage
 * returns −π/4 for cov > 0 and +π/4 otherwise, which is the opposite of the limit of its own
 * formula (and of the axis the region actually has). We use atan2 throughout, so the answer is
 * continuous; for a region with var_r = var_c and cov = 0 (a disc) it is 0 (the axis is undefined).
 */
export interface SecondMoments {
  centroidRow: number;
  centroidCol: number;
  major: number;
  minor: number;
  eccentricity: number;
  orientation: number;
}

export function secondMoments(crop: InstanceCrop): SecondMoments {
  const { rows, cols, data } = crop;
  const stride = cols + 2;
  // Crop-local coordinates keep the sums small, so the variances lose nothing to cancellation.
  let n = 0, sr = 0, sc = 0, srr = 0, scc = 0, src = 0;
  for (let r = 0; r < rows; r++) {
    const base = (r + 1) * stride + 1;
    let rowCount = 0, rowSc = 0, rowScc = 0;
    for (let c = 0; c < cols; c++) {
      if (data[base + c]) {
        rowCount++;
        rowSc += c;
        rowScc += c * c;
      }
    }
    if (rowCount === 0) continue;
    n += rowCount;
    sr += r * rowCount;
    srr += r * r * rowCount;
    sc += rowSc;
    scc += rowScc;
    src += r * rowSc;
  }
  const mr = sr / n;
  const mc = sc / n;
  const varR = srr / n - mr * mr;
  const varC = scc / n - mc * mc;
  const cov = src / n - mr * mc;
  // Tensor entries as skimage names them: a = var_c, b = −cov, c = var_r.
  const a = varC, b = -cov, c = varR;
  const half = (a + c) / 2;
  const root = Math.sqrt(((a - c) / 2) ** 2 + b * b);
  const l1 = Math.max(0, half + root);
  const l2 = Math.max(0, half - root);
  const orientation = 0.5 * Math.atan2(-2 * b, c - a);
  return {
    centroidRow: crop.row0 + mr,
    centroidCol: crop.col0 + mc,
    major: 4 * Math.sqrt(l1),
    minor: 4 * Math.sqrt(l2),
    eccentricity: l1 === 0 ? 0 : Math.sqrt(Math.max(0, 1 - l2 / l1)),
    orientation,
  };
}
