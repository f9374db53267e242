import { KnobSpace, type KnobValues } from '../../src/segmenters/knobs.js';
import type { EvaluateFn } from '../../src/train/runner.js';
import type { EvaluationRecord } from '../../src/store/index.js';

/** A small knob space: two floats and an int, like filter knobs. */
export const TOY_SPACE = new KnobSpace([
  { name: 'a', kind: 'float', min: 0, max: 1, default: 0.5, stage: 'filter', description: 'a' },
  { name: 'b', kind: 'log', min: 0.01, max: 10, default: 1, stage: 'filter', description: 'b' },
  { name: 'c', kind: 'int', min: 0, max: 20, default: 10, stage: 'filter', description: 'c' },
]);

/** Deterministic reward with terms: a quadratic bowl around (0.7, 2, 13); per-frame offsets. */
export function toyReward(knobs: KnobValues, frames: readonly number[] = [0]): { total: number; terms: Record<string, number>; perFrame: number[] } {
  const a = Number(knobs.a);
  const b = Math.log(Number(knobs.b));
  const c = Number(knobs.c);
  const fit = -((a - 0.7) ** 2) - 0.2 * (b - Math.log(2)) ** 2;
  const count = -0.01 * (c - 13) ** 2;
  const perFrame = frames.map((f) => fit + count - 0.001 * f);
  const total = perFrame.reduce((s, v) => s + v, 0) / perFrame.length;
  return { total, terms: { fit, count }, perFrame };
}

export function toyEvaluate(options: { delayMs?: number; nanWhen?: (knobs: KnobValues) => boolean; throwWhen?: (knobs: KnobValues) => boolean } = {}): EvaluateFn {
  return async (knobs, context) => {
    if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
    if (options.throwWhen?.(knobs)) throw new Error(`toy failure at a=${knobs.a}`);
    const r = toyReward(knobs, context.frames);
    return options.nanWhen?.(knobs) ? { ...r, total: Number.NaN } : r;
  };
}

/** The parts of evaluations that must agree between runs (not timing). */
export function comparable(evaluations: readonly EvaluationRecord[]): unknown[] {
  return evaluations.map((e) => ({
    index: e.index,
    generation: e.generation,
    candidate: e.candidate,
    x: e.x,
    knobs: e.knobs,
    total: Number.isNaN(e.total) ? 'NaN' : e.total,
    terms: e.terms,
    frames: e.frames,
    perFrame: e.perFrame,
  }));
}
