import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { getPolicyAgent, isPolicyAgentName, POLICY_AGENT_NAMES } from '../../agents/policy/registry.js';
import { AGENT_NAMES, parseAgentConfig } from '../../agents/registry.js';
import { configError } from '../util/config-error.js';
import { KnobSpace, type KnobSpec, type KnobValue } from '../segmenters/knobs.js';
import { getSegmenter, SEGMENTER_NAMES, segmenterKnobSpace, type SegmenterName } from '../segmenters/registry.js';
import { DEVICES, type Device } from '../segmenters/sam/devices.js';
import { SamstarError, suggestName } from '../util/errors.js';
import { pixelSizeSchema } from '../util/units.js';

/**
 * A training task (YAML):
 *
 *   name: nuclei-demo                      # optional; default: the file's stem
 *   data:
 *     frames: images/*.png                 # glob, folder, or list of files
 *     labels: labels                       # optional: label images matched by file stem
 *     pixel_size: 0.65um                   # optional: 650 (a bare number is nm), "0.65um", or {value: 0.65, unit: um};
 *                                          # overrides the files' metadata and fills reward terms' pixel_size
 *     channel: 1                           # optional: the signal channel of multi-channel images (0-based)
 *   segmenter:
 *     name: sam                            # a registered segmenter: sam, blobs (src/segmenters/registry.ts)
 *     encoder: model/encoder.onnx          # optional (both or neither; default: the bundled model)
 *     decoder: model/decoder.onnx
 *     fixed: { points_per_side: 16 }       # knobs held at a value
 *     tune:                                # knobs the agent moves: a list, or bounds per knob
 *       pred_iou_thresh: { min: 0.5, max: 0.95 }
 *       stability_score_thresh: {}         # full range
 *   reward: ../rewards/nuclei.yaml          # a rewards YAML, or the reward config inline
 *   agent: { name: cmaes, options: { popsize: 6 } }   # or ppo / reinforce: a contextual policy (options: agents/policy)
 *   budget: 60
 *   seed: 1
 *   framesPerEvaluation: 4                 # optional: a seeded subset per generation
 *   execution: { redis: redis://host:6379 } # optional: evaluate on `samstar worker`s (also send_frames: bytes|path, data_root)
 *
 * Relative paths resolve against the config file's folder. Unknown keys are
 * errors that name their path and suggest the nearest known key; knob names
 * are checked against the segmenter's knob space.
 */
const knobValue = z.union([z.number(), z.string()]);
const boundsSchema = z.strictObject({ min: z.number().optional(), max: z.number().optional() });

// The segmenters a task may name are the registry's (src/segmenters/registry.ts); re-exported for this module's callers.
export { SEGMENTER_NAMES, segmenterKnobSpace, type SegmenterName } from '../segmenters/registry.js';

export const taskSchema = z.strictObject({
  name: z.string().min(1, 'must not be empty').optional(),
  description: z.string().optional(),
  data: z.strictObject({
    frames: z.union([z.string().min(1, 'must not be empty'), z.array(z.string().min(1, 'must not be empty')).min(1, 'list at least one frame')]),
    labels: z.string().min(1, 'must not be empty').optional(),
    pixel_size: pixelSizeSchema.optional(),
    /** Deprecated spelling of pixel_size (read, with a warning). */
    pixelSize: pixelSizeSchema.optional(),
    channel: z.number().int('must be a whole number').min(0, 'must be ≥ 0 (channels are numbered from 0)').optional(),
  }),
  segmenter: z.strictObject({
    name: z.enum(SEGMENTER_NAMES).default('sam'),
    encoder: z.string().min(1).optional(),
    decoder: z.string().min(1).optional(),
    threads: z.number().int().min(1, 'must be ≥ 1').max(256).optional(),
    device: z.enum(DEVICES).optional(),
    fixed: z.record(z.string(), knobValue).default({}),
    tune: z.union([z.array(z.string()).min(1, 'name at least one knob to tune'), z.record(z.string(), boundsSchema.nullable())]),
  }),
  reward: z.union([z.string().min(1, 'must not be empty'), z.record(z.string(), z.unknown())]),
  agent: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
  budget: z.number().int('must be a whole number').min(1, 'must be ≥ 1').max(10_000_000),
  seed: z.number().int('must be a whole number').min(0, 'must be ≥ 0').max(2 ** 32 - 1).default(0),
  framesPerEvaluation: z.number().int('must be a whole number').min(1, 'must be ≥ 1').optional(),
  execution: z
    .strictObject({
      redis: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
      send_frames: z.enum(['bytes', 'path']).optional(),
      data_root: z.string().min(1).optional(),
    })
    .optional(),
});

/** A knob the agent moves, with the bounds it may explore (inside the knob's own). */
export interface TunedKnob {
  readonly name: string;
  readonly min?: number;
  readonly max?: number;
}

/** A task's segmenter section, as parsed; a resolved task (src/train/task.ts) stores it unchanged. */
export interface TaskSegmenter {
  /** A registered segmenter (src/segmenters/registry.ts); studies from before the registry hold 'sam'. */
  readonly name: SegmenterName;
  readonly encoder?: string;
  readonly decoder?: string;
  readonly threads?: number;
  /** Where onnxruntime runs the model (default cpu). */
  readonly device?: Device;
  readonly fixed: Record<string, KnobValue>;
  readonly tune: TunedKnob[];
}

/** A validated task config with absolute paths (frames not yet expanded). */
export interface TaskConfig {
  /** The file it came from (or "config"). */
  readonly source: string;
  readonly name: string;
  readonly description?: string;
  readonly data: {
    /** An absolute glob / folder, or absolute file paths. */
    readonly frames: string | string[];
    readonly labels?: string;
    /** Nanometres per pixel (config `data.pixel_size`). */
    readonly pixelSize?: number;
    /** The signal channel of multi-channel images. */
    readonly channel?: number;
  };
  readonly segmenter: TaskSegmenter;
  /** An absolute path to a rewards YAML, or an inline reward config object. */
  readonly reward: string | Record<string, unknown>;
  readonly agent: { readonly name: string; readonly options: Record<string, unknown> };
  readonly budget: number;
  readonly seed: number;
  readonly framesPerEvaluation?: number;
  /** Where evaluations run (not part of the study: the same study may resume elsewhere); data_root is absolute. */
  readonly execution?: { readonly redis: string; readonly sendFrames?: 'bytes' | 'path'; readonly dataRoot?: string };
}

/** Flags that override the config (paths relative to the working directory). */
export interface TaskOverrides {
  readonly frames?: string | string[];
  readonly labels?: string;
  readonly agent?: string;
  readonly budget?: number;
  readonly seed?: number;
  readonly framesPerEvaluation?: number;
  readonly name?: string;
  /** data.channel (--channel). */
  readonly channel?: number;
  /** data.pixel_size (--pixel-size: "0.65um", 650…), replacing the config's. */
  readonly pixelSize?: string | number;
  /** Resolve override paths against this folder (default: process.cwd()). */
  readonly cwd?: string;
}

export async function loadTaskConfig(path: string, overrides: TaskOverrides = {}): Promise<TaskConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new SamstarError('IO_ERROR', `cannot read task config ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, {
      hint: 'give a task config YAML (see configs/tasks/)',
      cause: error,
    });
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    throw new SamstarError('CONFIG_INVALID', `${path}: not valid YAML: ${(error as Error).message}`, { cause: error });
  }
  return parseTaskConfig(data, { source: path, baseDir: dirname(resolve(path)), overrides });
}

/**
 * Validate a parsed task config. `baseDir` is where relative paths of the
 * config resolve (its folder); overrides replace config values first.
 */
export function parseTaskConfig(data: unknown, options: { source?: string; baseDir?: string; overrides?: TaskOverrides } = {}): TaskConfig {
  const source = options.source ?? 'task config';
  const baseDir = options.baseDir ?? process.cwd();
  const overrides = options.overrides ?? {};
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new SamstarError('CONFIG_INVALID', `${source}: a task config is a mapping with data, segmenter, reward, agent and budget (found ${data === null ? 'nothing' : Array.isArray(data) ? 'a list' : typeof data})`, {
      hint: 'see configs/tasks/ for examples',
    });
  }
  const merged = applyOverrides(data as Record<string, unknown>, overrides);
  const result = taskSchema.safeParse(merged);
  if (!result.success) throw configError(result.error.issues, { title: `${source}: invalid task config`, schema: taskSchema, data: merged, hint: 'see configs/tasks/ for examples' });
  const raw = result.data;

  const at = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  const frames = Array.isArray(raw.data.frames) ? raw.data.frames.map(at) : at(raw.data.frames);

  // Knobs: names, values and bounds against the segmenter's knob space.
  const space = segmenterKnobSpace(raw.segmenter.name);
  const where = (...path: string[]): string => `${source}: ${['segmenter', ...path].join('.')}`;
  for (const name of Object.keys(raw.segmenter.fixed)) checkKnobName(space, name, where('fixed', name));
  space.resolve(raw.segmenter.fixed, `${source}: segmenter.fixed`);
  const tune: TunedKnob[] = Array.isArray(raw.segmenter.tune)
    ? raw.segmenter.tune.map((name) => ({ name }))
    : Object.entries(raw.segmenter.tune).map(([name, b]) => ({ name, ...(b?.min !== undefined ? { min: b.min } : {}), ...(b?.max !== undefined ? { max: b.max } : {}) }));
  const seen = new Set<string>();
  for (const knob of tune) {
    checkKnobName(space, knob.name, where('tune', knob.name));
    if (seen.has(knob.name)) throw new SamstarError('CONFIG_INVALID', `${where('tune')}: "${knob.name}" is listed twice`);
    seen.add(knob.name);
    if (knob.name in raw.segmenter.fixed) {
      throw new SamstarError('CONFIG_INVALID', `${where('tune', knob.name)}: knob "${knob.name}" is both fixed and tuned`, {
        hint: 'remove it from segmenter.fixed or from segmenter.tune',
      });
    }
    tunedSpec(space.spec(knob.name), knob, where('tune', knob.name));
  }

  if (!getSegmenter(raw.segmenter.name).usesModel && (raw.segmenter.encoder !== undefined || raw.segmenter.decoder !== undefined)) {
    throw new SamstarError('CONFIG_INVALID', `${where(raw.segmenter.encoder !== undefined ? 'encoder' : 'decoder')}: the ${raw.segmenter.name} segmenter runs no model`, {
      hint: 'remove segmenter.encoder and segmenter.decoder, or use a segmenter that runs a model (sam)',
    });
  }
  if ((raw.segmenter.encoder === undefined) !== (raw.segmenter.decoder === undefined)) {
    throw new SamstarError('CONFIG_INVALID', `${where(raw.segmenter.encoder ? 'decoder' : 'encoder')}: missing (encoder and decoder go together)`, {
      hint: 'give both ONNX files of a SAM / MobileSAM export, or neither for the bundled model',
    });
  }

  const agent = parseTaskAgent(raw.agent, `${source}: agent`);
  return {
    source,
    name: raw.name ?? stemOf(source),
    ...(raw.description !== undefined ? { description: raw.description } : {}),
    data: {
      frames,
      ...(raw.data.labels !== undefined ? { labels: at(raw.data.labels) } : {}),
      ...dataUnits(raw.data, source),
    },
    segmenter: {
      name: raw.segmenter.name,
      ...(raw.segmenter.encoder !== undefined ? { encoder: at(raw.segmenter.encoder), decoder: at(raw.segmenter.decoder!) } : {}),
      ...(raw.segmenter.threads !== undefined ? { threads: raw.segmenter.threads } : {}),
      ...(raw.segmenter.device !== undefined ? { device: raw.segmenter.device } : {}),
      fixed: { ...raw.segmenter.fixed },
      tune,
    },
    reward: typeof raw.reward === 'string' ? at(raw.reward) : raw.reward,
    agent: { name: agent.name, options: agent.options },
    budget: raw.budget,
    seed: raw.seed,
    ...(raw.framesPerEvaluation !== undefined ? { framesPerEvaluation: raw.framesPerEvaluation } : {}),
    ...(raw.execution
      ? { execution: { redis: raw.execution.redis, ...(raw.execution.send_frames ? { sendFrames: raw.execution.send_frames } : {}), ...(raw.execution.data_root ? { dataRoot: at(raw.execution.data_root) } : {}) } }
      : {}),
  };
}

// The policy-gradient agents are listed once, in agents/policy/registry.ts; re-exported for the callers of this module.
export { isPolicyAgentName, POLICY_AGENT_NAMES, type PolicyAgentName } from '../../agents/policy/registry.js';

/** Every agent a task may name: the black-box ones (agents/registry.ts) and the policy-gradient ones. */
export const TASK_AGENT_NAMES: readonly string[] = [...AGENT_NAMES, ...POLICY_AGENT_NAMES];

/**
 * A task's `agent:` block. Black-box agents go through the registry's checks;
 * ppo/reinforce options are checked against their schemas (unknown keys and bad
 * values name `agent.options.<key>`) but stored as written (JSON-safe:
 * "Infinity" stays a string, as the study store keeps it).
 */
export function parseTaskAgent(input: unknown, source = 'agent'): { name: string; options: Record<string, unknown> } {
  const name = typeof input === 'string' ? input : input !== null && typeof input === 'object' && !Array.isArray(input) ? (input as Record<string, unknown>).name : undefined;
  if (typeof name === 'string' && !TASK_AGENT_NAMES.includes(name)) {
    throw new SamstarError('CONFIG_INVALID', `${source}.name: unknown agent "${name}"`, { hint: suggestName(name, TASK_AGENT_NAMES) });
  }
  if (typeof name !== 'string' || !isPolicyAgentName(name)) return parseAgentConfig(input, source);
  if (typeof input === 'string') return { name, options: {} };
  const record = input as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key !== 'name' && key !== 'options') throw new SamstarError('CONFIG_INVALID', `${source}.${key}: unknown key "${key}"`, { hint: suggestName(key, ['name', 'options']) });
  }
  const options = record.options ?? {};
  const schema = getPolicyAgent(name).schema;
  const result = schema.safeParse(options);
  if (!result.success) throw configError(result.error.issues, { title: `invalid options for agent "${name}"`, schema, data: options, prefix: [source, 'options'] });
  return { name, options: { ...(options as Record<string, unknown>) } };
}

/** The knob space the agent searches: the tuned knobs, with narrowed bounds where given. */
export function tunedKnobSpace(config: Pick<TaskConfig, 'segmenter'>): KnobSpace {
  const space = segmenterKnobSpace(config.segmenter.name);
  return new KnobSpace(config.segmenter.tune.map((t) => tunedSpec(space.spec(t.name), t, `segmenter.tune.${t.name}`)));
}

function tunedSpec(spec: KnobSpec, knob: TunedKnob, where: string): KnobSpec {
  if (knob.min === undefined && knob.max === undefined) return spec;
  if (spec.kind === 'choice') {
    throw new SamstarError('CONFIG_INVALID', `${where}: "${spec.name}" is a choice knob (${spec.choices.join(', ')}); it has no min/max`, {
      hint: `tune it over all its choices (segmenter.tune.${spec.name}: {}) or fix one (segmenter.fixed)`,
    });
  }
  const min = knob.min ?? spec.min;
  const max = knob.max ?? spec.max;
  for (const [key, v] of [['min', min], ['max', max]] as const) {
    if (v < spec.min || v > spec.max) {
      throw new SamstarError('CONFIG_INVALID', `${where}.${key}: ${v} is outside the knob's range [${spec.min}, ${spec.max}]`, { hint: spec.description });
    }
    if (spec.kind === 'int' && !Number.isInteger(v)) {
      throw new SamstarError('CONFIG_INVALID', `${where}.${key}: ${v} must be a whole number ("${spec.name}" is an integer knob)`);
    }
    if (spec.kind === 'float' && spec.step) {
      const k = (v - spec.min) / spec.step;
      if (Math.abs(k - Math.round(k)) > 1e-9) {
        throw new SamstarError('CONFIG_INVALID', `${where}.${key}: ${v} is not on the knob's grid of ${spec.step} steps from ${spec.min}`, { hint: spec.description });
      }
    }
  }
  if (!(min < max)) {
    throw new SamstarError('CONFIG_INVALID', `${where}: min ${min} must be below max ${max}`, {
      hint: 'to hold a knob at one value, put it under segmenter.fixed',
    });
  }
  return { ...spec, min, max, default: Math.min(max, Math.max(min, spec.default)) } as KnobSpec;
}

function checkKnobName(space: KnobSpace, name: string, where: string): void {
  if (!space.names.includes(name)) {
    throw new SamstarError('KNOB_UNKNOWN', `${where}: unknown knob "${name}"`, { hint: suggestName(name, space.names) });
  }
}

function applyOverrides(data: Record<string, unknown>, overrides: TaskOverrides): Record<string, unknown> {
  const cwd = overrides.cwd ?? process.cwd();
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(cwd, p));
  const out: Record<string, unknown> = { ...data };
  const dataBlock = typeof data.data === 'object' && data.data !== null && !Array.isArray(data.data) ? { ...(data.data as Record<string, unknown>) } : {};
  if (overrides.frames !== undefined) {
    dataBlock.frames = Array.isArray(overrides.frames) ? overrides.frames.map(abs) : abs(overrides.frames);
    out.data = dataBlock;
  }
  if (overrides.labels !== undefined) {
    dataBlock.labels = abs(overrides.labels);
    out.data = dataBlock;
  }
  if (overrides.channel !== undefined) {
    dataBlock.channel = overrides.channel;
    out.data = dataBlock;
  }
  if (overrides.pixelSize !== undefined) {
    delete dataBlock.pixelSize;
    dataBlock.pixel_size = overrides.pixelSize;
    out.data = dataBlock;
  }
  if (overrides.agent !== undefined) {
    const current = data.agent;
    const currentName = typeof current === 'string' ? current : (current as { name?: unknown } | undefined)?.name;
    // Options belong to the agent they were written for: keep them only for the same agent.
    out.agent = currentName === overrides.agent ? current : { name: overrides.agent };
  }
  if (overrides.budget !== undefined) out.budget = overrides.budget;
  if (overrides.seed !== undefined) out.seed = overrides.seed;
  if (overrides.framesPerEvaluation !== undefined) out.framesPerEvaluation = overrides.framesPerEvaluation;
  if (overrides.name !== undefined) out.name = overrides.name;
  return out;
}

/** `data.pixel_size` (nm, whatever unit it was written in) and `data.channel`; the old `pixelSize` spelling still works, with a warning. */
function dataUnits(data: { pixel_size?: number; pixelSize?: number; channel?: number }, source: string): { pixelSize?: number; channel?: number } {
  if (data.pixelSize !== undefined && data.pixel_size !== undefined) {
    throw new SamstarError('CONFIG_INVALID', `${source}: data.pixelSize and data.pixel_size are the same setting, given twice`, { hint: 'keep data.pixel_size (pixelSize is its old spelling)' });
  }
  if (data.pixelSize !== undefined) {
    process.emitWarning(`${source}: data.pixelSize is deprecated; write data.pixel_size (same value: a bare number is nm per pixel)`, 'DeprecationWarning');
  }
  const pixelSize = data.pixel_size ?? data.pixelSize;
  return { ...(pixelSize !== undefined ? { pixelSize } : {}), ...(data.channel !== undefined ? { channel: data.channel } : {}) };
}

function stemOf(path: string): string {
  const base = path.split(/[\\/]/).pop() ?? path;
  return base.replace(/\.(ya?ml|json)$/i, '') || 'task';
}

