/**
 * The logit levels at which the filter stage keeps exact pixel counts.
 *
 * Every threshold the filter stage can ask about — t (mask_threshold), t + δ and
 * t − δ (stability) — is a multiple of LEVEL_STEP between LEVEL_MIN and
 * LEVEL_MAX, given the knob grids in knob-specs.ts. Both the cached path and the
 * direct (uncached) path compare logits against `levelValue(k)`, so they count
 * exactly the same pixels.
 */
export const LEVEL_STEP = 0.05;
/** min(mask_threshold) − max(stability_score_offset). */
export const LEVEL_MIN = -5;
/** max(mask_threshold) + max(stability_score_offset). */
export const LEVEL_MAX = 5;
export const LEVEL_COUNT = Math.round((LEVEL_MAX - LEVEL_MIN) / LEVEL_STEP) + 1;

/** levelValue(k) for every k, for hot loops. */
export const LEVEL_VALUES: Float64Array = Float64Array.from({ length: LEVEL_COUNT }, (_, k) => Number((LEVEL_MIN + k * LEVEL_STEP).toFixed(10)));

export function levelValue(k: number): number {
  return LEVEL_VALUES[k];
}

/** Index of the level equal to `value` (which must lie on the grid). */
export function levelIndex(value: number): number {
  const k = Math.round((value - LEVEL_MIN) / LEVEL_STEP);
  if (k < 0 || k >= LEVEL_COUNT || Math.abs(LEVEL_VALUES[k] - value) > 1e-6) {
    throw new RangeError(`logit level ${value} is not on the ${LEVEL_STEP} grid within [${LEVEL_MIN}, ${LEVEL_MAX}]`);
  }
  return k;
}

/**
 * The largest k with value > levelValue(k), or −1 when value is at or below
 * every level. Exact (adjusted with the same comparisons as the direct path).
 */
export function levelsBelow(value: number): number {
  let k = Math.floor((value - LEVEL_MIN) / LEVEL_STEP);
  if (k >= LEVEL_COUNT) k = LEVEL_COUNT - 1;
  if (k < -1) k = -1;
  while (k + 1 < LEVEL_COUNT && value > LEVEL_VALUES[k + 1]) k++;
  while (k >= 0 && !(value > LEVEL_VALUES[k])) k--;
  return k;
}
