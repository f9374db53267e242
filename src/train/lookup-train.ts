import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { featureSpec, frameFeatures } from '../image/features.js';
import { frameRefStem, loadFrame } from '../image/load.js';
import { fitLookup, DEFAULT_LOOKUP_FEATURES } from '../policy/lookup.js';
import { writeLookupPolicy } from '../policy/policy.js';
import { KnobSpace } from '../segmenters/knobs.js';
import { loadTaskSegmenter } from '../segmenters/registry.js';
import type { Segmenter } from '../segmenters/types.js';
import { SamstarError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { policyProvenance } from './provenance.js';
import type { ResolvedTask } from './task.js';
import { POLICY_DIR, SUMMARY_FILE, train, type TrainResult } from './train.js';

/**
 * `samstar train --per-frame`: a lookup policy (src/policy/lookup.ts). The task's black-box agent
 * tunes each training frame on its own (the task's budget per frame; one study per frame in
 * OUT/frames/STEM/, so an interrupted run resumes frame by frame), then k nearest neighbours map
 * a frame's features to those best knobs. The simple baseline for per-frame knobs on
 * heterogeneous images: when frames differ in scale, polarity or texture, the knobs of the most
 * similar training frame beat any one setting.
 */
export interface LookupTrainOptions {
  readonly out: string;
  readonly resume?: boolean;
  readonly signal?: AbortSignal;
  /** Neighbours (default 3). */
  readonly k?: number;
  /** The features the distance uses (default DEFAULT_LOOKUP_FEATURES). */
  readonly features?: readonly string[];
  /** A loaded segmenter to reuse (not disposed here). */
  readonly segmenter?: Segmenter;
  readonly workers?: number;
  /** Before each frame's study: its position, the count and the frame. */
  readonly onFrame?: (index: number, count: number, frame: string) => void;
  /** After each frame's study. */
  readonly onFrameDone?: (index: number, result: TrainResult) => void;
}

export interface LookupTrainSummary {
  readonly kind: 'lookup';
  readonly frames: {
    readonly frame: string;
    readonly study: string;
    /** The frame's target knobs (tuned ones): the search's best, or the defaults where they scored higher. */
    readonly best: Record<string, unknown> | null;
    readonly total: number | null;
    readonly default: number | null;
    /** Where `best` came from. */
    readonly source: 'search' | 'default' | null;
  }[];
  /** Mean over frames of each frame's best total, and of the default knobs' total. */
  readonly meanBest: number | null;
  readonly meanDefault: number | null;
  readonly k: number;
  readonly features: string[];
  readonly evaluations: number;
}

export interface LookupTrainResult {
  readonly status: 'finished' | 'interrupted';
  readonly summary: LookupTrainSummary;
  readonly paths: { readonly policy?: string; readonly summary: string; readonly frames: string };
}

export const FRAMES_DIR = 'frames';

export async function trainLookupPolicy(task: ResolvedTask, options: LookupTrainOptions): Promise<LookupTrainResult> {
  const out = resolve(options.out);
  const framesDir = join(out, FRAMES_DIR);
  if (existsSync(framesDir) && !options.resume) {
    throw new SamstarError('ARGUMENT_INVALID', `${out} already holds a per-frame run (${FRAMES_DIR}/)`, { hint: 'continue it with --resume, or choose another --out folder' });
  }
  const spec = featureSpec();
  const space = new KnobSpace(task.knobSpace);
  const segmenter = options.segmenter ?? (await loadTaskSegmenter(task.segmenter));
  const rows: { frame: string; features: Float64Array; x: number[]; reward: number }[] = [];
  const frames: LookupTrainSummary['frames'][number][] = [];
  let evaluations = 0;
  let interrupted = false;
  try {
    const stems = new Set<string>();
    for (const [i, frame] of task.data.frames.entries()) {
      if (options.signal?.aborted) {
        interrupted = true;
        break;
      }
      let stem = frameRefStem(frame);
      // Two frames with one stem (a.png, a.tif) keep their studies apart.
      while (stems.has(stem)) stem = `${stem}-${i}`;
      stems.add(stem);
      const dir = join(framesDir, stem);
      options.onFrame?.(i, task.data.frames.length, frame);
      const subTask: ResolvedTask = {
        ...task,
        name: `${task.name}/${stem}`,
        data: { ...task.data, frames: [frame], ...(task.data.labels ? { labels: [task.data.labels[i]] } : {}) },
        framesPerEvaluation: undefined,
      };
      const result = await train(subTask, { out: dir, resume: existsSync(join(dir, 'study.sqlite')), signal: options.signal, segmenter, workers: options.workers, labelScores: false });
      options.onFrameDone?.(i, result);
      evaluations += result.summary.evaluations;
      // A small per-frame budget can end below the default knobs (evaluated first, but not a candidate
      // of the search): then the defaults are that frame's target, so the policy never learns a worse one.
      const found = result.summary.best;
      const fallback = result.summary.default;
      const useDefault = fallback !== null && Number.isFinite(fallback.total) && (!found || fallback.total > found.total);
      const best = useDefault ? fallback : found;
      frames.push({
        frame,
        study: join(dir, 'study.sqlite'),
        best: best ? { ...best.knobs } : null,
        total: best?.total ?? null,
        default: fallback?.total ?? null,
        source: best ? (useDefault ? 'default' : 'search') : null,
      });
      if (result.run.status === 'interrupted') {
        interrupted = true;
        break;
      }
      if (!best) continue; // no finite reward on this frame: it teaches nothing
      const loaded = await loadFrame(frame, { channel: task.data.channel });
      rows.push({ frame, features: Float64Array.from(frameFeatures(loaded, spec.version)), x: space.toNormalised(best.knobs), reward: best.total });
    }
    const k = options.k ?? 3;
    const use = options.features ?? DEFAULT_LOOKUP_FEATURES;
    const totals = frames.map((f) => f.total).filter((t): t is number => t !== null);
    const defaults = frames.map((f) => f.default).filter((t): t is number => t !== null);
    const summary: LookupTrainSummary = {
      kind: 'lookup',
      frames,
      meanBest: totals.length ? totals.reduce((a, b) => a + b, 0) / totals.length : null,
      meanDefault: defaults.length ? defaults.reduce((a, b) => a + b, 0) / defaults.length : null,
      k,
      features: [...use],
      evaluations,
    };
    const summaryPath = join(out, SUMMARY_FILE);
    await writeFileAtomic(summaryPath, `${JSON.stringify(summary, null, 2)}\n`);
    if (interrupted) return { status: 'interrupted', summary, paths: { summary: summaryPath, frames: framesDir } };
    if (rows.length === 0) {
      throw new SamstarError('CONFIG_INVALID', 'per-frame training: no frame gave a finite reward, so there is nothing to look up', {
        hint: 'check the reward config against these frames (samstar reward), and the knob bounds',
      });
    }
    const table = fitLookup({ featureNames: spec.names, rows, use, k });
    const policyPath = join(out, POLICY_DIR);
    await writeLookupPolicy(policyPath, {
      segmenter: segmenter.name,
      knobSpace: task.knobSpace,
      fixed: task.segmenter.fixed,
      lookup: table,
      features: spec,
      provenance: { ...(await policyProvenance(task, { evaluations, trainReward: summary.meanBest ?? undefined, defaultReward: summary.meanDefault ?? undefined })), perFrame: { k, features: [...use] } },
    });
    return { status: 'finished', summary, paths: { policy: policyPath, summary: summaryPath, frames: framesDir } };
  } finally {
    if (!options.segmenter) await segmenter.dispose();
  }
}

/** One line per frame and the means: what `samstar train --per-frame` prints. */
export function formatLookupSummary(summary: LookupTrainSummary): string {
  const fmt = (v: number | null): string => (v === null ? '—' : v.toFixed(4));
  const lines = summary.frames.map((f) => `  ${frameRefStem(f.frame)}: ${f.source === 'default' ? 'the default knobs' : 'best'} ${fmt(f.total)} (default ${fmt(f.default)}) ${f.best ? JSON.stringify(f.best) : ''}`);
  return [
    `per-frame optimisation on ${summary.frames.length} frame(s), ${summary.evaluations} evaluations: mean best ${fmt(summary.meanBest)} vs default ${fmt(summary.meanDefault)}`,
    ...lines,
    `lookup policy: ${summary.k} nearest neighbours over ${summary.features.join(', ')}`,
  ].join('\n');
}
