import { existsSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { getTerm, loadRewardConfig, parseRewardConfig, type RewardConfig } from '../../rewards/index.js';
import { knownKeysAt } from '../util/zod-paths.js';
import { tunedKnobSpace, type TaskConfig, type TaskSegmenter } from '../config/task.js';
import type { KnobSpec } from '../segmenters/knobs.js';
import { getSegmenter } from '../segmenters/registry.js';
import { SamstarError } from '../util/errors.js';
import { frameRefStem, listFrames, parseFrameRef } from '../image/load.js';
import { expandGlob, hasGlobMagic, imagesInFolder } from './glob.js';

/**
 * A task with everything looked up: the frame files, the label file of each
 * frame (matched by file stem), and the reward config. This is what the study
 * store keeps as the run's config: a resumed run compares against it.
 */
export interface ResolvedTask {
  readonly name: string;
  readonly description?: string;
  /** The config file it came from. */
  readonly source: string;
  readonly data: {
    readonly frames: string[];
    /** Label image per frame (null where a frame has none); absent without a labels folder. */
    readonly labels?: (string | null)[];
    readonly labelsDir?: string;
    /** Nanometres per pixel (config data.pixel_size). */
    readonly pixelSize?: number;
    /** The signal channel of multi-channel images. */
    readonly channel?: number;
  };
  readonly segmenter: TaskSegmenter;
  /** The tuned knob space (narrowed bounds applied), as stored. */
  readonly knobSpace: KnobSpec[];
  readonly reward: {
    /** The rewards YAML, or "inline". */
    readonly source: string;
    readonly config: RewardConfig;
  };
  readonly agent: { readonly name: string; readonly options: Record<string, unknown> };
  readonly budget: number;
  readonly seed: number;
  readonly framesPerEvaluation?: number;
}

const LABEL_SUFFIXES = ['.png', '.labels.png', '.tif', '.tiff'];

export async function resolveTask(config: TaskConfig): Promise<ResolvedTask> {
  // Every frame of a stack is a frame of the task (stack.tif#t0003); a channel choice is checked here.
  const frames = await listFrames(await expandFrames(config.data.frames, config.source), { channel: config.data.channel });
  let labels: (string | null)[] | undefined;
  if (config.data.labels !== undefined) labels = await matchLabels(frames, config.data.labels, config.source);
  const reward = await resolveReward(config);
  if (reward.needsTruth && !labels) {
    throw new SamstarError('CONFIG_INVALID', `${config.source}: the reward (${reward.source}) needs ground-truth labels, and data.labels is not given`, {
      hint: 'add data.labels (a folder of label images named like the frames) or use a reward without label terms',
    });
  }
  if (reward.needsTruth && labels) {
    const missing = frames.filter((_, i) => labels![i] === null);
    if (missing.length > 0) {
      throw new SamstarError('CONFIG_INVALID', `${config.source}: the reward needs labels, and ${missing.length} frame(s) have none in ${config.data.labels}: ${missing.slice(0, 5).map((f) => basename(f)).join(', ')}${missing.length > 5 ? ', …' : ''}`, {
        hint: 'label images are matched by file stem: frame-0001.tif ↔ frame-0001.png',
      });
    }
  }
  if (config.framesPerEvaluation !== undefined && config.framesPerEvaluation > frames.length) {
    throw new SamstarError('CONFIG_INVALID', `${config.source}: framesPerEvaluation is ${config.framesPerEvaluation} but there are only ${frames.length} frames`, {
      hint: 'leave it out to use every frame in every evaluation',
    });
  }
  return {
    name: config.name,
    ...(config.description !== undefined ? { description: config.description } : {}),
    source: config.source,
    data: {
      frames,
      ...(labels ? { labels, labelsDir: config.data.labels } : {}),
      ...(config.data.pixelSize !== undefined ? { pixelSize: config.data.pixelSize } : {}),
      ...(config.data.channel !== undefined ? { channel: config.data.channel } : {}),
    },
    segmenter: { ...config.segmenter, fixed: { ...config.segmenter.fixed }, tune: config.segmenter.tune.map((t) => ({ ...t })) },
    knobSpace: tunedKnobSpace(config).toJSON(),
    reward: { source: reward.source, config: reward.config },
    agent: { name: config.agent.name, options: { ...config.agent.options } },
    budget: config.budget,
    seed: config.seed,
    ...(config.framesPerEvaluation !== undefined ? { framesPerEvaluation: config.framesPerEvaluation } : {}),
  };
}

/**
 * The task on another registered segmenter: its knobs are that segmenter's own (names such as
 * blob_threshold mean other things, with other bounds, on another segmenter), so the task's
 * fixed and tuned knobs and model files are dropped and the segmenter's default tuned knobs
 * (its definition's defaultTune) are tuned over their full ranges. The same segmenter: the task as is.
 */
export function withSegmenter(task: ResolvedTask, name: string): ResolvedTask {
  if ((task.segmenter.name ?? 'sam') === name) return task;
  const definition = getSegmenter(name);
  const { threads, device } = task.segmenter;
  const segmenter = {
    name: definition.name as ResolvedTask['segmenter']['name'],
    ...(threads !== undefined ? { threads } : {}),
    ...(device !== undefined && definition.usesModel ? { device } : {}),
    fixed: {},
    tune: definition.defaultTune.map((knob) => ({ name: knob })),
  };
  return { ...task, segmenter, knobSpace: tunedKnobSpace({ segmenter }).toJSON() };
}

async function expandFrames(frames: string | string[], source: string): Promise<string[]> {
  if (Array.isArray(frames)) {
    for (const f of frames) {
      if (!existsSync(f)) throw new SamstarError('IMAGE_NOT_FOUND', `${source}: data.frames: ${f} does not exist`, { hint: 'relative paths resolve against the config file\'s folder' });
    }
    return frames;
  }
  if (!hasGlobMagic(frames) && existsSync(frames) && statSync(frames).isDirectory()) {
    const found = await imagesInFolder(frames);
    if (found.length === 0) throw new SamstarError('IMAGE_NOT_FOUND', `${source}: data.frames: the folder ${frames} holds no PNG, JPEG or TIFF images`);
    return found;
  }
  if (!hasGlobMagic(frames)) {
    if (!existsSync(frames)) throw new SamstarError('IMAGE_NOT_FOUND', `${source}: data.frames: ${frames} does not exist`, { hint: 'give a file, a folder or a glob such as images/*.png (relative to the config file)' });
    return [frames];
  }
  const found = await expandGlob(frames);
  if (found.length === 0) {
    throw new SamstarError('IMAGE_NOT_FOUND', `${source}: data.frames: no files match ${frames}`, {
      hint: 'relative globs resolve against the config file\'s folder (flags: against the working directory)',
    });
  }
  return found;
}

/** A frame's stem for matching labels: stack.tif#t0003 → stack-t0003 (labels stack-t0003.png). */
function stemOf(path: string): string {
  const { frame } = parseFrameRef(path);
  return frame ? frameRefStem(path) : basename(path).replace(/\.(labels\.png|png|jpe?g|tiff?)$/i, '');
}

async function matchLabels(frames: string[], dir: string, source: string): Promise<(string | null)[]> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new SamstarError('IO_ERROR', `${source}: data.labels: ${dir} is not a folder`, { hint: 'give the folder of label images (matched to frames by file stem)' });
  }
  const files = new Set((await readdir(dir)).filter((f) => !f.startsWith('.')));
  const out = frames.map((frame) => {
    const stem = stemOf(frame);
    for (const suffix of LABEL_SUFFIXES) if (files.has(stem + suffix)) return join(dir, stem + suffix);
    return null;
  });
  if (out.every((l) => l === null)) {
    throw new SamstarError('LABELS_INVALID', `${source}: data.labels: no label image in ${dir} matches a frame's file stem (e.g. ${stemOf(frames[0])}.png)`, {
      hint: 'label images are matched by file stem: frame-0001.tif ↔ frame-0001.png',
    });
  }
  return out;
}

async function resolveReward(config: TaskConfig): Promise<{ source: string; config: RewardConfig; needsTruth: boolean }> {
  let parsed: RewardConfig;
  if (typeof config.reward === 'string') {
    if (!existsSync(config.reward)) {
      throw new SamstarError('IO_ERROR', `${config.source}: reward: ${config.reward} does not exist`, { hint: 'give a rewards YAML (see configs/rewards/) relative to the task config, or the reward config inline' });
    }
    if (config.data.pixelSize === undefined) parsed = await loadRewardConfig(config.reward);
    else {
      let raw: unknown;
      try {
        raw = parseYaml(await readFile(config.reward, 'utf8'));
      } catch (error) {
        throw new SamstarError('CONFIG_INVALID', `${config.reward}: not valid YAML: ${(error as Error).message}`, { cause: error });
      }
      parsed = parseRewardConfig(isRecord(raw) ? injectPixelSize(raw, config.data.pixelSize) : raw, config.reward);
    }
  } else {
    const source = `${config.source}: reward`;
    const raw = config.data.pixelSize !== undefined ? injectPixelSize(config.reward, config.data.pixelSize) : config.reward;
    parsed = parseRewardConfig(raw, source);
  }
  const needsTruth = parsed.terms.some((t) => getTerm(t.type).needs.truth !== undefined);
  return { source: typeof config.reward === 'string' ? config.reward : 'inline', config: parsed, needsTruth };
}

/** The task's pixel size fills `pixel_size` of every term that takes one and has none. */
function injectPixelSize(raw: Record<string, unknown>, pixelSize: number): Record<string, unknown> {
  const terms = raw.terms;
  if (terms === null || typeof terms !== 'object' || Array.isArray(terms)) return raw;
  const out: Record<string, unknown> = {};
  for (const [name, body] of Object.entries(terms as Record<string, unknown>)) {
    const b = (body ?? {}) as Record<string, unknown>;
    const type = typeof b.type === 'string' ? b.type : name;
    let takes = false;
    try {
      takes = knownKeysAt(getTerm(type).schema, []).includes('pixel_size');
    } catch {
      takes = false;
    }
    out[name] = takes && b.pixel_size === undefined ? { ...b, pixel_size: pixelSize } : body;
  }
  return { ...raw, terms: out };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
