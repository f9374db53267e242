import { KnobSpace, type KnobSpec, type KnobValues } from '../knobs.js';

/**
 * Knobs of the blob segmenter. Detection (the LoG scale space and its peaks)
 * is the expensive stage; the response threshold, overlap suppression and the
 * mask shape are filter-stage knobs answered from the cached peaks.
 */
export const BLOB_KNOBS: readonly KnobSpec[] = [
  { name: 'blob_sigma_min', kind: 'log', min: 0.5, max: 32, default: 1.5, stage: 'propose', description: 'smallest LoG σ in pixels (radius ≈ 1.41σ)' },
  { name: 'blob_sigma_max', kind: 'log', min: 1, max: 64, default: 8, stage: 'propose', description: 'largest LoG σ in pixels' },
  { name: 'blob_sigma_steps', kind: 'int', min: 1, max: 20, default: 8, stage: 'propose', description: 'log-spaced scales between the σ bounds' },
  { name: 'blob_polarity', kind: 'choice', choices: ['bright', 'dark', 'both'], default: 'bright', stage: 'propose', description: 'bright particles on dark, dark on bright, or both' },
  { name: 'blob_border', kind: 'int', min: 0, max: 256, default: 0, stage: 'propose', description: 'ignore blobs whose centre is closer than this to the image edge' },
  { name: 'blob_threshold', kind: 'float', min: 1, max: 50, default: 4, stage: 'filter', description: 'minimum scale-normalised LoG response, in multiples of the image noise σ' },
  { name: 'blob_overlap', kind: 'float', min: 0, max: 1, default: 0.5, stage: 'filter', description: 'drop the weaker of two blobs overlapping by more than this fraction' },
  { name: 'radius_scale', kind: 'float', min: 0.5, max: 2, default: 1, stage: 'filter', description: 'disk radius = this × √2σ' },
  { name: 'refine', kind: 'choice', choices: ['none', 'threshold'], default: 'threshold', stage: 'filter', description: 'disk as is, or the pixels past a local threshold (midway between the blob and its surroundings) connected to the centre' },
  { name: 'min_area', kind: 'int', min: 0, max: 100000, default: 0, stage: 'filter', description: 'drop instances smaller than this many pixels' },
];

/** The lowest threshold detection runs at (the filter stage raises it for free). */
export const DETECTION_FLOOR = 1;

export function blobKnobSpace(): KnobSpace {
  return new KnobSpace(BLOB_KNOBS);
}

/**
 * `--adapt-propose scales`: both polarities × five σ ranges of two octaves (σ 1–4 … 16–64 px, 5
 * steps each: particles of about 3 to 180 px across). The ranges share one √2 lattice, so the
 * segmenter computes 13 scale-space layers per frame for all ten, not 50.
 */
export const BLOB_SCALE_CANDIDATES: readonly KnobValues[] = (['bright', 'dark'] as const).flatMap((blob_polarity) =>
  [1, 2, 4, 8, 16].map((sigmaMin) => ({ blob_polarity, blob_sigma_min: sigmaMin, blob_sigma_max: 4 * sigmaMin, blob_sigma_steps: 5 })),
);
