import type { KnobSpace } from '../segmenters/knobs.js';
import { SamstarError } from '../util/errors.js';

/**
 * A lookup policy: per-frame optimisation on the training frames, then k-nearest neighbours from
 * a frame's features to those frames' best knobs. The simple, strong baseline for per-frame knobs:
 * no network to train, exact on the frames it saw, and easy to read (policy.json lists every
 * example with the frame it came from).
 *
 * Distances are Euclidean over the chosen features, each standardised by the training frames'
 * mean and standard deviation (features that do not vary there are dropped: scale 0). The answer
 * is an inverse-distance weighted mean of the k nearest examples' normalised knob vectors for
 * numeric knobs (log knobs are normalised in log space, so the mean is geometric), and a weighted
 * vote for choice knobs. An exact match (distance 0) returns that example's knobs.
 */
export interface LookupTable {
  readonly k: number;
  /** Feature names the distance uses (a subset of the policy's feature spec). */
  readonly features: string[];
  readonly center: number[];
  readonly scale: number[];
  readonly examples: LookupExample[];
}

export interface LookupExample {
  /** Where the example came from (a frame id), for people reading policy.json. */
  readonly frame?: string;
  /** The chosen features' values, in `features` order (raw, not standardised). */
  readonly features: number[];
  /** The best normalised knob vector found for that frame. */
  readonly x: number[];
  /** Its reward, when known. */
  readonly reward?: number;
}

/** Scale features and polarity/texture descriptors: what decides a detector's σ range, threshold and polarity. */
export const DEFAULT_LOOKUP_FEATURES: readonly string[] = [
  'scale_dominant',
  'scale_spread',
  'scale_polarity',
  'texture_scale',
  'grey_skewness',
  'otsu_fraction',
  'noise_sigma',
];

export interface FitLookupInput {
  /** Names of the full feature vectors below, in order (the feature spec). */
  readonly featureNames: readonly string[];
  readonly rows: readonly { readonly features: ArrayLike<number>; readonly x: readonly number[]; readonly frame?: string; readonly reward?: number }[];
  /** Which features the distance uses (default: DEFAULT_LOOKUP_FEATURES). */
  readonly use?: readonly string[];
  /** Neighbours (default 3, at most the number of examples). */
  readonly k?: number;
}

export function fitLookup(input: FitLookupInput): LookupTable {
  const use = input.use ?? DEFAULT_LOOKUP_FEATURES;
  if (input.rows.length === 0) throw new SamstarError('ARGUMENT_INVALID', 'lookup policy: no training frames to learn from');
  const index = use.map((name) => {
    const at = input.featureNames.indexOf(name);
    if (at < 0) {
      throw new SamstarError('ARGUMENT_INVALID', `lookup policy: feature "${name}" is not in the feature spec`, {
        hint: 'the scale features need frame features version 2 (samstar-frame-features-v2)',
      });
    }
    return at;
  });
  const k = input.k ?? 3;
  if (!Number.isInteger(k) || k < 1) throw new SamstarError('ARGUMENT_INVALID', `lookup policy: k must be a whole number ≥ 1, got ${k}`);
  const width = input.rows[0].x.length;
  const examples: LookupExample[] = input.rows.map((row, i) => {
    if (row.x.length !== width) throw new SamstarError('ARGUMENT_INVALID', `lookup policy: example ${i} has ${row.x.length} knob values, the first has ${width}`);
    return {
      ...(row.frame !== undefined ? { frame: row.frame } : {}),
      features: index.map((at) => Number(row.features[at])),
      x: [...row.x],
      ...(row.reward !== undefined ? { reward: row.reward } : {}),
    };
  });
  const n = examples.length;
  const center = use.map((_, j) => examples.reduce((s, e) => s + e.features[j], 0) / n);
  const scale = use.map((_, j) => {
    const variance = examples.reduce((s, e) => s + (e.features[j] - center[j]) ** 2, 0) / n;
    return variance > 1e-12 ? Math.sqrt(variance) : 0;
  });
  return { k: Math.min(k, n), features: [...use], center, scale, examples };
}

/** The normalised knob vector for a frame's full feature vector (`featureNames` order). */
export function lookupX(table: LookupTable, featureNames: readonly string[], features: ArrayLike<number>, space: KnobSpace): number[] {
  const query = table.features.map((name) => {
    const at = featureNames.indexOf(name);
    if (at < 0) throw new SamstarError('ARGUMENT_INVALID', `lookup policy: the frame's features lack "${name}"`);
    return Number(features[at]);
  });
  const distances = table.examples.map((e) => {
    let d2 = 0;
    for (let j = 0; j < query.length; j++) if (table.scale[j] > 0) d2 += ((query[j] - e.features[j]) / table.scale[j]) ** 2;
    return Math.sqrt(d2);
  });
  // Nearest first; ties broken by example order so that the answer never depends on sort stability.
  const order = distances.map((d, i) => [d, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const nearest = order.slice(0, table.k);
  if (nearest[0][0] === 0) return [...table.examples[nearest[0][1]].x];
  const weights = nearest.map(([d]) => 1 / d);
  const total = weights.reduce((a, b) => a + b, 0);
  return space.specs.map((spec, j) => {
    if (spec.kind === 'choice') {
      // Vote on the decoded choice, then encode the winner (normalised values of one choice differ only in rounding).
      const votes = new Map<unknown, { weight: number; x: number }>();
      nearest.forEach(([, i], m) => {
        const x = table.examples[i].x[j];
        const value = space.fromNormalised(space.specs.map((_, q) => (q === j ? x : 0)))[spec.name];
        const vote = votes.get(value) ?? { weight: 0, x };
        vote.weight += weights[m];
        votes.set(value, vote);
      });
      let best: { weight: number; x: number } | undefined;
      for (const vote of votes.values()) if (!best || vote.weight > best.weight) best = vote;
      return best!.x;
    }
    let sum = 0;
    nearest.forEach(([, i], m) => (sum += weights[m] * table.examples[i].x[j]));
    return sum / total;
  });
}

/** Shape checks for a table read from policy.json; `bad` throws with the file's name. */
export function checkLookupTable(table: unknown, knobs: number, bad: (what: string) => never): LookupTable {
  const t = table as LookupTable;
  if (!t || typeof t !== 'object') bad('a lookup policy needs lookup: { k, features, center, scale, examples }');
  if (!Number.isInteger(t.k) || t.k < 1) bad(`lookup.k must be a whole number ≥ 1, got ${JSON.stringify(t.k)}`);
  if (!Array.isArray(t.features) || !Array.isArray(t.center) || !Array.isArray(t.scale)) bad('lookup.features, lookup.center and lookup.scale must be lists');
  if (t.center.length !== t.features.length || t.scale.length !== t.features.length) bad('lookup.center and lookup.scale need one value per feature');
  if (!Array.isArray(t.examples) || t.examples.length === 0) bad('lookup.examples must list at least one example');
  t.examples.forEach((e, i) => {
    if (!Array.isArray(e?.features) || e.features.length !== t.features.length) bad(`lookup.examples[${i}].features needs ${t.features.length} values`);
    if (!Array.isArray(e.x) || e.x.length !== knobs) bad(`lookup.examples[${i}].x needs ${knobs} values (one per tuned knob)`);
    if (![...e.features, ...e.x].every((v) => typeof v === 'number' && Number.isFinite(v))) bad(`lookup.examples[${i}] holds a value that is not a finite number`);
  });
  return t;
}
