import { readFile } from 'node:fs/promises';
import { ParetoArchive } from '../../agents/pareto.js';
import type { ObjectiveSpec } from '../../rewards/index.js';
import type { KnobValues } from '../segmenters/knobs.js';
import type { EvaluationRecord } from '../store/index.js';
import { SamstarError } from '../util/errors.js';

/**
 * OUT/pareto.json of a multi-objective `samstar train` run, and choosing one of its points.
 *
 * The front holds every non-dominated evaluation of the study (failed ones never), in the
 * archive's order (agents/pareto.ts: first objective best first, then the next, then trial
 * id). Objective values are as the config defines them (a minimised objective is written
 * as is, not negated). `chosen` is the point best-knobs.json holds: the one the config's
 * weights pick, else the knee. `--pick` chooses again: a position in `front` (0-based),
 * `knee`, or weights `w1,w2,…` (one per objective, ≥ 0), with the same rules, so
 * `--pick knee` on a run without weights gives best-knobs.json's knobs.
 */
export const PARETO_FILE = 'pareto.json';
export const PARETO_FORMAT = 'samstar-pareto';

/** Objective values are stored with each evaluation's terms under this prefix (terms are identifiers: no clash). */
export const OBJECTIVE_TERM_PREFIX = 'objective.';

export interface ParetoPoint {
  /** The evaluation's index in the study (its trial id). */
  readonly trial: number;
  /** The full knob vector evaluated. */
  readonly knobs: KnobValues;
  /** Objective values by name, as the config defines them. */
  readonly objectives: Record<string, number>;
  /** The scalar total of the evaluation (the config's `total`, else the weighted mean of the signed objectives). */
  readonly total: number;
}

export interface ParetoFile {
  readonly format: typeof PARETO_FORMAT;
  readonly version: 1;
  readonly study: string;
  /** The segmenter the knobs are for (segment --pick uses it unless --segmenter says otherwise). */
  readonly segmenter?: string;
  readonly method: string;
  readonly objectives: readonly ObjectiveSpec[];
  /** Evaluations archived (failed ones included). */
  readonly evaluations: number;
  readonly chosen: { readonly by: 'weights' | 'knee'; readonly weights?: number[]; readonly position: number; readonly trial: number };
  /** The default knobs' objective values (null when the study has none). */
  readonly default: { readonly knobs: KnobValues; readonly objectives: Record<string, number> } | null;
  readonly front: readonly ParetoPoint[];
}

type PointMeta = { trial: number; knobs: KnobValues; total: number };

/** The objective values of a result (raw, in config order) as terms to store. */
export function objectiveTerms(specs: readonly ObjectiveSpec[], values: readonly number[] | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  specs.forEach((o, i) => (out[`${OBJECTIVE_TERM_PREFIX}${o.name}`] = values?.[i] ?? Number.NaN));
  return out;
}

/** Raw objective values (config order) from stored terms; NaN where missing. */
export function storedObjectives(specs: readonly ObjectiveSpec[], terms: Readonly<Record<string, number>> | undefined): number[] {
  return specs.map((o) => {
    const v = terms?.[`${OBJECTIVE_TERM_PREFIX}${o.name}`];
    return typeof v === 'number' ? v : Number.NaN;
  });
}

/** Raw values → the maximised vector the archive and the search use (minimised objectives negated). */
export function maximised(specs: readonly ObjectiveSpec[], values: readonly number[]): number[] {
  return values.map((v, i) => (specs[i].direction === 'minimise' ? -v : v));
}

/** The Pareto archive of a study, rebuilt from its stored evaluations (in study order). */
export function archiveOfStudy(specs: readonly ObjectiveSpec[], records: readonly EvaluationRecord[]): ParetoArchive<PointMeta> {
  const archive = new ParetoArchive<PointMeta>({ objectiveNames: specs.map((o) => o.name) });
  const sorted = [...records].sort((a, b) => a.index - b.index);
  for (const r of sorted) {
    const values = Number.isNaN(r.total) ? specs.map(() => Number.NaN) : storedObjectives(specs, r.terms);
    archive.add(r.x, maximised(specs, values), { trial: r.index, knobs: r.knobs, total: r.total });
  }
  return archive;
}

/** The configured weights when every objective has one, else undefined. */
export function configWeights(specs: readonly ObjectiveSpec[]): number[] | undefined {
  return specs.every((o) => o.weight !== undefined) ? specs.map((o) => o.weight!) : undefined;
}

/** The front as pareto.json writes it, with the point the config's weights (or the knee) choose. */
export function paretoFileOf(args: {
  readonly study: string;
  readonly segmenter?: string;
  readonly method: string;
  readonly specs: readonly ObjectiveSpec[];
  readonly archive: ParetoArchive<PointMeta>;
  readonly defaultPoint?: { knobs: KnobValues; terms: Record<string, number> } | null;
}): ParetoFile | undefined {
  const { specs, archive } = args;
  const front = archive.front();
  if (front.length === 0) return undefined;
  const weights = configWeights(specs);
  const chosen = weights ? archive.pick(weights)! : archive.knee()!;
  const position = front.findIndex((e) => e.index === chosen.index);
  const raw = (v: readonly number[]): Record<string, number> => Object.fromEntries(maximised(specs, v).map((x, i) => [specs[i].name, x]));
  const defaultValues = args.defaultPoint ? storedObjectives(specs, args.defaultPoint.terms) : undefined;
  return {
    format: PARETO_FORMAT,
    version: 1,
    study: args.study,
    ...(args.segmenter ? { segmenter: args.segmenter } : {}),
    method: args.method,
    objectives: specs.map((o) => ({ ...o })),
    evaluations: archive.size,
    chosen: { by: weights ? 'weights' : 'knee', ...(weights ? { weights } : {}), position, trial: chosen.meta!.trial },
    default: args.defaultPoint && defaultValues!.every(Number.isFinite) ? { knobs: args.defaultPoint.knobs, objectives: Object.fromEntries(defaultValues!.map((v, i) => [specs[i].name, v])) } : null,
    front: front.map((e) => ({ trial: e.meta!.trial, knobs: e.meta!.knobs, objectives: raw(e.objectives), total: e.meta!.total })),
  };
}

/** Read and check a pareto.json (`source` names it in errors). */
export async function readParetoFile(path: string): Promise<ParetoFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new SamstarError('IO_ERROR', `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { hint: 'give the pareto.json of a multi-objective samstar train run' });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new SamstarError('CONFIG_INVALID', `${path}: not valid JSON: ${(error as Error).message}`);
  }
  if (!isParetoFile(data)) {
    throw new SamstarError('CONFIG_INVALID', `${path}: not a samstar pareto.json (no "format": "${PARETO_FORMAT}" with objectives and a front)`, {
      hint: '--pick chooses a point of OUT/pareto.json written by samstar train on a reward config with objectives',
    });
  }
  return data;
}

export function isParetoFile(data: unknown): data is ParetoFile {
  if (data === null || typeof data !== 'object') return false;
  const d = data as Record<string, unknown>;
  return d.format === PARETO_FORMAT && Array.isArray(d.objectives) && Array.isArray(d.front);
}

/** The valid --pick values of a file, for errors and help. */
export function pickChoices(file: ParetoFile): string {
  const n = file.front.length;
  const names = file.objectives.map((o) => o.name);
  return `a front position 0${n > 1 ? `–${n - 1}` : ''}, "knee", or ${names.length} weights "${names.map(() => 'w').join(',')}" (≥ 0, for ${names.join(', ')})`;
}

/**
 * One point of a pareto.json by `--pick`: a position in the front, `knee`, or weights
 * (comma-separated, one per objective). Errors name the valid choices.
 */
export function pickParetoPoint(file: ParetoFile, pick: string, source = 'pareto.json'): { point: ParetoPoint; position: number; by: string } {
  const text = pick.trim();
  const bad = (why: string): SamstarError =>
    new SamstarError('ARGUMENT_INVALID', `--pick ${JSON.stringify(pick)}: ${why}`, { hint: `${source} has ${file.front.length} point(s) on its front: give ${pickChoices(file)}` });
  if (file.front.length === 0) throw bad('the front is empty');
  if (/^\d+$/.test(text)) {
    const position = Number(text);
    if (position >= file.front.length) throw bad(`position ${position} is past the front's last point (${file.front.length - 1})`);
    return { point: file.front[position], position, by: `position ${position}` };
  }
  const archive = frontArchive(file);
  if (text === 'knee') {
    const entry = archive.knee()!;
    return { point: file.front[entry.index], position: entry.index, by: 'knee' };
  }
  if (text.includes(',')) {
    const parts = text.split(',').map((p) => p.trim());
    const weights = parts.map(Number);
    if (parts.some((p) => p === '') || weights.some((w) => !(Number.isFinite(w) && w >= 0))) throw bad('weights must be numbers ≥ 0');
    if (weights.length !== file.objectives.length) throw bad(`${weights.length} weights for ${file.objectives.length} objectives`);
    if (!weights.some((w) => w > 0)) throw bad('the weights sum to 0');
    const entry = archive.pick(weights)!;
    return { point: file.front[entry.index], position: entry.index, by: `weights ${weights.join(',')}` };
  }
  throw bad('not a position, "knee" or weights');
}

/** The file's front as an archive, inserted in file order (so ties resolve as in the run). */
function frontArchive(file: ParetoFile): ParetoArchive {
  const archive = new ParetoArchive({ objectiveNames: file.objectives.map((o) => o.name) });
  for (const p of file.front) {
    const values = file.objectives.map((o) => p.objectives[o.name]);
    archive.add([], maximised(file.objectives, values));
  }
  return archive;
}

/**
 * `segment --knobs FILE --pick P`: the knob values of the picked point of a pareto.json, or
 * undefined when neither a pick nor a pareto.json is involved (plain --knobs input). A
 * pareto.json without --pick, and --pick without a pareto.json, are errors naming the choices.
 */
export async function knobInputOrPick(knobs: string | undefined, pick: string | undefined): Promise<{ values: Record<string, unknown>; source: string } | undefined> {
  const inline = knobs?.trim().startsWith('{') ?? false;
  if (pick !== undefined && (knobs === undefined || inline)) {
    throw new SamstarError('ARGUMENT_INVALID', `--pick ${JSON.stringify(pick)} chooses a point of a Pareto front: give the front with --knobs OUT/pareto.json`, {
      hint: 'samstar train writes OUT/pareto.json when the reward config declares two or more objectives',
    });
  }
  if (knobs === undefined || inline || !knobs.endsWith('.json')) {
    if (pick !== undefined) throw new SamstarError('ARGUMENT_INVALID', `--pick needs a pareto.json as --knobs, got ${knobs}`, { hint: 'give --knobs OUT/pareto.json' });
    return undefined;
  }
  let data: unknown;
  try {
    data = JSON.parse(await readFile(knobs, 'utf8'));
  } catch {
    if (pick !== undefined) await readParetoFile(knobs); // throws the precise reason
    return undefined; // readKnobInput reports it
  }
  if (!isParetoFile(data)) {
    if (pick !== undefined) await readParetoFile(knobs);
    return undefined;
  }
  if (pick === undefined) {
    throw new SamstarError('ARGUMENT_INVALID', `${knobs} is a Pareto front of ${data.front.length} point(s): choose one with --pick`, {
      hint: `--pick takes ${pickChoices(data)}; best-knobs.json next to it holds the point the run chose (${data.chosen.by})`,
    });
  }
  const { point, by } = pickParetoPoint(data, pick, knobs);
  return { values: { ...point.knobs }, source: `${knobs} (${by}: trial #${point.trial})` };
}
