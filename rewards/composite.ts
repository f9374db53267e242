import type { Frame } from '../src/image/frame.js';
import { cropsFromPrediction, type Prediction } from '../src/measure/crops.js';
import { measureSet } from '../src/measure/measure.js';
import type { MeasureOptions, Measurements } from '../src/measure/types.js';
import { SamstarError } from '../src/util/errors.js';
import { parseObjectives, parseRewardConfig, type ObjectiveSpec, type RewardConfig } from './config.js';
import { truthKind } from './context.js';
import { compileExpression, type CompiledExpression } from './expression.js';
import { getTerm } from './registry.js';
import type { RewardInput, RewardTerm, Truth } from './types.js';

/**
 * A composite reward, compiled once from its config: the terms with their validated
 * parameters, the `total` expression and the optional objective vector.
 * `evaluateReward` measures the prediction once, computes every term, then the expressions.
 */
export interface RewardResult {
  total: number;
  terms: Record<string, number>;
  objectives?: number[];
}

export interface CompiledReward {
  readonly config: RewardConfig;
  readonly terms: readonly { name: string; term: RewardTerm<never>; params: never }[];
  readonly total: CompiledExpression | null;
  readonly objectives: readonly CompiledExpression[] | null;
  /** Name, direction and weight of each objective (same order as `objectives`). */
  readonly objectiveSpecs: readonly ObjectiveSpec[] | null;
  /** Measurement options derived from the config's `measure` block. */
  measureOptions(frame?: Frame): MeasureOptions;
  readonly needsFrame: boolean;
  readonly needsTruth: 'labels' | 'any' | null;
}

export function compileReward(config: RewardConfig | unknown): CompiledReward {
  const parsed = isRewardConfig(config) ? config : parseRewardConfig(config);
  const names = parsed.terms.map((t) => t.name);
  const total = parsed.total !== undefined ? compileExpression(parsed.total, names, `${parsed.source}: total`) : null;
  // Configs stored with older studies hold plain strings: parseObjectives reads both forms.
  const objectiveSpecs = parsed.objectives ? parseObjectives(parsed.objectives as readonly unknown[], parsed.source) : null;
  const objectives = objectiveSpecs
    ? objectiveSpecs.map((o, i) => compileExpression(o.expr, names, `${parsed.source}: objectives[${i}]`))
    : null;
  const terms = parsed.terms.map((t) => ({ name: t.name, term: getTerm(t.type), params: t.params as never }));
  const needsFrame = terms.some((t) => t.term.needs.frame);
  const needsRing = terms.some((t) => t.term.needs.ring);
  const truthNeeds = terms.map((t) => t.term.needs.truth).filter((n): n is 'labels' | 'any' => n !== undefined);
  return {
    config: parsed,
    terms,
    total,
    objectives,
    objectiveSpecs,
    needsFrame,
    needsTruth: truthNeeds.includes('labels') ? 'labels' : truthNeeds.length ? 'any' : null,
    measureOptions: (frame) => ({
      frame,
      ringWidth: parsed.measure.ring_width,
      foreground: parsed.measure.foreground,
      foregroundThreshold: parsed.measure.foreground_threshold,
      ring: needsRing,
    }),
  };
}

function isRewardConfig(value: unknown): value is RewardConfig {
  return typeof value === 'object' && value !== null && Array.isArray((value as RewardConfig).terms) && 'source' in value;
}

export interface EvaluateOptions {
  readonly frame?: Frame;
  readonly truth?: Truth;
  /** Measurements already made with compatible options (otherwise measured here). */
  readonly measurements?: Measurements;
  /** Where the prediction came from, for error messages. */
  readonly source?: string;
}

export function evaluateReward(reward: CompiledReward, prediction: Prediction, options: EvaluateOptions = {}): RewardResult {
  const where = reward.config.source;
  for (const { name, term } of reward.terms) {
    if (term.needs.frame && !options.frame) {
      throw new SamstarError('ARGUMENT_INVALID', `${where}: term "${name}" (${term.type}) needs the image`, {
        hint: 'pass the image the prediction was made on (--image)',
      });
    }
    const needTruth = term.needs.truth;
    if (needTruth) {
      const kind = truthKind({ truth: options.truth } as RewardInput);
      if (kind === 'none' || (needTruth === 'labels' && kind === 'boxes')) {
        throw new SamstarError(
          'ARGUMENT_INVALID',
          `${where}: term "${name}" (${term.type}) needs ground truth ${needTruth === 'labels' ? 'instance labels' : 'labels or boxes'}${kind === 'boxes' ? ', got boxes' : ''}`,
        );
      }
    }
  }
  const measurements =
    options.measurements ??
    measureSet(cropsFromPrediction(prediction, options.source), { ...reward.measureOptions(options.frame), source: options.source });
  const input: RewardInput = { prediction, measurements, frame: options.frame, truth: options.truth };
  const terms: Record<string, number> = {};
  for (const { name, term, params } of reward.terms) {
    const value = term.compute(input, params);
    if (!Number.isFinite(value)) {
      throw new SamstarError('CONFIG_INVALID', `${where}: term "${name}" (${term.type}) returned ${value}`, {
        hint: 'this is a bug in the term or a degenerate input; please report it with the config',
      });
    }
    terms[name] = value;
  }
  const objectives = reward.objectives?.map((o) => o.evaluate(terms));
  // The expressions refuse non-finite values; the mean of the objectives is checked here, so that no
  // caller (the envs, the serve pipeline, `samstar reward`) ever gets a NaN or infinite total.
  const total = reward.total ? reward.total.evaluate(terms) : objectivesTotal(reward.objectiveSpecs!, objectives!);
  if (!Number.isFinite(total)) {
    throw new SamstarError('EXPRESSION_INVALID', `${where}: the total is ${total}${options.source ? ` on ${options.source}` : ''} (terms ${JSON.stringify(terms)})`, {
      hint: 'a reward must be a finite number: guard divisions and logarithms (e.g. log(x + 1e-6))',
    });
  }
  return objectives ? { total, terms, objectives } : { total, terms };
}

/**
 * The total of a config without `total:`: the weighted mean of the objectives (equal weights when
 * none are given), each signed by its direction (a minimised objective counts negatively).
 */
export function objectivesTotal(specs: readonly ObjectiveSpec[], values: readonly number[]): number {
  let sum = 0;
  let weights = 0;
  specs.forEach((o, i) => {
    const w = o.weight ?? 1;
    sum += w * (o.direction === 'minimise' ? -values[i] : values[i]);
    weights += w;
  });
  return sum / weights;
}
