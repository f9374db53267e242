import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { evaluateReward, type CompiledReward } from '../../rewards/index.js';
import { listFrames, loadFrame } from '../image/load.js';
import { packageVersion } from '../util/package-root.js';
import type { OnlineAdapter } from '../policy/adapt.js';
import type { Policy } from '../policy/policy.js';
import { writeSegmentationOutputs, type OutputPaths } from '../segment/outputs.js';
import type { KnobValues } from '../segmenters/knobs.js';
import type { Segmentation, Segmenter } from '../segmenters/types.js';
import { IMAGE_EXTENSIONS } from '../train/glob.js';
import { SamstarError, isSamstarError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';

/**
 * Live segmentation of a folder a microscope writes into (`samstar watch`).
 *
 * Discovery: `fs.watch` on the folder wakes a scan at once; a periodic scan
 * (`scanMs`) is the fallback where change events are unreliable (network
 * shares, some container mounts). Only the folder itself is watched, not
 * sub-folders. Image files (.png, .jpg, .jpeg, .tif, .tiff) are considered;
 * dot-files and names ending in .tmp, .part, .partial, .crdownload or ~ are
 * ignored (a writer's temporary names).
 *
 * A file is read only when complete: its size and mtime must be unchanged (and
 * non-zero) over `stableMs` (default 500 ms), checked again just before
 * reading. Writers that write a temporary name and rename it when done are
 * picked up after one stable interval; writers that append in place are read
 * once they have paused for `stableMs` — choose it longer than the writer's
 * longest pause. A file that still fails to decode (or to segment) is
 * reported and skipped, and the stream goes on; if it changes later (size or
 * mtime), it is tried again.
 *
 * Order: files are processed one at a time in arrival order (the order they
 * were first seen; files first seen in the same scan by mtime, then name).
 * Files present at start are skipped unless `existing` is set.
 *
 * Stop: abort the signal. The frame in flight finishes, and the summary is
 * returned (and written to OUT/watch-summary.json).
 */
export interface WatchOptions {
  readonly dir: string;
  readonly out: string;
  readonly segmenter: Segmenter;
  /** Chooses the knobs per frame; without one, `knobs` (or the segmenter's defaults) for every frame. */
  readonly policy?: Policy;
  readonly knobs?: KnobValues;
  /** Scores each frame for the live line (and is what adaptation maximises). */
  readonly reward?: CompiledReward;
  /** Online adaptation per frame (needs `reward`; the adapter carries the knobs from frame to frame). */
  readonly adapter?: OnlineAdapter;
  readonly signal: AbortSignal;
  /** Size and mtime must hold still this long before a file is read (default 500 ms). */
  readonly stableMs?: number;
  /** Periodic scan interval, the fallback to fs.watch (default 1000 ms). */
  readonly scanMs?: number;
  /** Also process the images already in the folder at start (default false). */
  readonly existing?: boolean;
  /** Stop after this many frames (processed or failed). */
  readonly maxFrames?: number;
  /** Goes into every NAME.json (segmenter, model files, …). */
  readonly provenance?: Record<string, unknown>;
  /** The signal channel of multi-channel images (see loadFrame). */
  readonly channel?: number;
  /** Nanometres per pixel, overriding the files' metadata. */
  readonly pixelSizeNm?: number;
  /** After the initial scan: from now on new files are picked up. */
  readonly onReady?: () => void;
  readonly onFrame?: (result: WatchFrameResult) => void;
  readonly onFailure?: (failure: WatchFailure) => void;
}

export interface WatchFrameResult {
  /** 1-based position in the stream. */
  readonly index: number;
  readonly file: string;
  readonly count: number;
  /** Knob choice (features + network, or nothing for static knobs), ms. */
  readonly decideMs: number;
  /** Adaptation (evaluations after the first), ms; 0 without adaptation. */
  readonly adaptMs: number;
  /** Load + decide + segment + score + write, ms. */
  readonly totalMs: number;
  /** From the moment the file was found complete to its outputs written, ms. */
  readonly latencyMs: number;
  readonly reward?: { readonly total: number; readonly terms: Record<string, number> };
  /** The tuned knobs used (the policy's, after adaptation). */
  readonly tuned: KnobValues;
  readonly adapt?: { readonly evaluations: number; readonly baseTotal: number };
  readonly outputs: OutputPaths;
}

export interface WatchFailure {
  readonly index: number;
  readonly file: string;
  readonly error: string;
}

export interface WatchSummary {
  readonly dir: string;
  readonly out: string;
  readonly frames: number;
  readonly failed: number;
  readonly seconds: number;
  readonly latencyMs: { readonly mean: number | null; readonly p50: number | null; readonly p95: number | null; readonly max: number | null };
  readonly decideMs: { readonly mean: number | null; readonly max: number | null };
  readonly meanCount: number | null;
  readonly meanReward: number | null;
  readonly meanTerms: Record<string, number>;
  readonly policy: ReturnType<Policy['describe']> | null;
  readonly adapt: boolean;
  readonly failures: WatchFailure[];
}

export const WATCH_SUMMARY_FILE = 'watch-summary.json';

const TEMP_SUFFIXES = ['.tmp', '.part', '.partial', '.crdownload', '~'];

export function isWatchedImage(name: string): boolean {
  const lower = name.toLowerCase();
  if (name.startsWith('.') || TEMP_SUFFIXES.some((s) => lower.endsWith(s))) return false;
  return IMAGE_EXTENSIONS.some((x) => lower.endsWith(x));
}

interface Seen {
  readonly size: number;
  readonly mtimeMs: number;
}

interface Tracked extends Seen {
  /** When the current size/mtime was first observed. */
  readonly since: number;
  /** Arrival rank (first seen). */
  readonly seq: number;
}

export async function watchFolder(options: WatchOptions): Promise<WatchSummary> {
  const dir = resolve(options.dir);
  const out = resolve(options.out);
  if (dir === out) {
    throw new SamstarError('ARGUMENT_INVALID', `--out must not be the watched folder (${dir}): the outputs would be read as new frames`, { hint: 'write the outputs to another folder, e.g. a sub-folder (sub-folders are not watched)' });
  }
  if (options.adapter && !options.reward) throw new SamstarError('ARGUMENT_INVALID', 'online adaptation needs a reward');
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error('not a folder');
  } catch {
    throw new SamstarError('IO_ERROR', `cannot watch ${dir}: not a folder`, { hint: 'give the folder the microscope writes its images into' });
  }
  const stableMs = options.stableMs ?? 500;
  const scanMs = options.scanMs ?? 1000;
  const signal = options.signal;
  const started = performance.now();

  const done = new Map<string, Seen>();
  const tracked = new Map<string, Tracked>();
  const queue: { name: string; readyAt: number; seen: Seen; seq: number }[] = [];
  let seq = 0;
  const results: WatchFrameResult[] = [];
  const failures: WatchFailure[] = [];
  let stopped = signal.aborted;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  const scan = async (): Promise<void> => {
    let names: string[];
    try {
      names = (await readdir(dir)).filter(isWatchedImage);
    } catch {
      return; // the folder may be briefly unavailable (network share); the next scan tries again
    }
    const now = performance.now();
    const fresh: { name: string; seen: Seen }[] = [];
    for (const name of names) {
      let st;
      try {
        st = await stat(join(dir, name));
      } catch {
        continue; // gone (renamed away) since readdir
      }
      if (!st.isFile()) continue;
      const seen = { size: st.size, mtimeMs: st.mtimeMs };
      const before = done.get(name);
      if (before && before.size === seen.size && before.mtimeMs === seen.mtimeMs) continue;
      const t = tracked.get(name);
      if (!t) {
        fresh.push({ name, seen });
        continue;
      }
      if (t.size !== seen.size || t.mtimeMs !== seen.mtimeMs) {
        tracked.set(name, { ...seen, since: now, seq: t.seq });
      } else if (seen.size > 0 && now - t.since >= stableMs) {
        tracked.delete(name);
        done.set(name, seen);
        queue.push({ name, readyAt: now, seen, seq: t.seq });
      }
    }
    fresh.sort((a, b) => a.seen.mtimeMs - b.seen.mtimeMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const f of fresh) tracked.set(f.name, { ...f.seen, since: now, seq: seq++ });
    queue.sort((a, b) => a.seq - b.seq);
    if (queue.length) notify();
    if (tracked.size) scheduleScan(stableMs);
  };

  let scanning: Promise<void> | undefined;
  let again = false;
  const runScan = (): void => {
    if (stopped) return;
    if (scanning) {
      again = true;
      return;
    }
    scanning = (async () => {
      do {
        again = false;
        await scan();
      } while (again && !stopped);
    })().finally(() => (scanning = undefined));
  };
  let timer: NodeJS.Timeout | undefined;
  const scheduleScan = (ms: number): void => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      runScan();
    }, ms);
  };

  // Start: what is there now is old news unless `existing`.
  if (!options.existing) {
    for (const name of (await readdir(dir)).filter(isWatchedImage)) {
      try {
        const st = await stat(join(dir, name));
        if (st.isFile()) done.set(name, { size: st.size, mtimeMs: st.mtimeMs });
      } catch {
        // gone already
      }
    }
  }
  let watcher: FSWatcher | undefined;
  try {
    watcher = fsWatch(dir, { persistent: true }, () => scheduleScan(25));
    watcher.on('error', () => undefined); // the periodic scan carries on
  } catch {
    watcher = undefined; // fs.watch unsupported here: periodic scans only
  }
  const interval = setInterval(runScan, scanMs);
  const onAbort = (): void => {
    stopped = true;
    notify();
  };
  signal.addEventListener('abort', onAbort);
  runScan();
  options.onReady?.();

  const fixedKnobs = options.segmenter.knobs.resolve(options.knobs ?? {}, 'knobs');
  try {
    while (!stopped) {
      const next = queue.shift();
      if (!next) {
        await new Promise<void>((r) => {
          wake = r;
          if (stopped || queue.length) notify();
        });
        continue;
      }
      const path = join(dir, next.name);
      // Still the file that was found complete? (Written to again since: back to waiting.)
      try {
        const st = await stat(path);
        if (st.size !== next.seen.size || st.mtimeMs !== next.seen.mtimeMs) {
          done.delete(next.name);
          tracked.set(next.name, { size: st.size, mtimeMs: st.mtimeMs, since: performance.now(), seq: next.seq });
          scheduleScan(stableMs);
          continue;
        }
      } catch {
        done.delete(next.name);
        continue; // gone
      }
      // A stack (multi-page TIFF) is one file and several frames: each is processed in order.
      let refs: string[] = [path];
      try {
        refs = await listFrames([path], { channel: options.channel });
      } catch {
        // processFrame on the file reports the same error as a failure of this frame
      }
      for (const ref of refs) {
        const index = results.length + failures.length + 1;
        try {
          const result = await processFrame(ref, index, next.readyAt, options, fixedKnobs, out);
          results.push(result);
          options.onFrame?.(result);
        } catch (error) {
          const failure: WatchFailure = { index, file: ref, error: isSamstarError(error) ? error.describe() : error instanceof Error ? error.message : String(error) };
          failures.push(failure);
          options.onFailure?.(failure);
        }
        if (options.maxFrames !== undefined && results.length + failures.length >= options.maxFrames) break;
      }
      if (options.maxFrames !== undefined && results.length + failures.length >= options.maxFrames) break;
    }
  } finally {
    stopped = true;
    signal.removeEventListener('abort', onAbort);
    clearInterval(interval);
    if (timer) clearTimeout(timer);
    watcher?.close();
    await scanning;
  }
  const summary = summarise(dir, out, results, failures, (performance.now() - started) / 1000, options);
  await writeFileAtomic(join(out, WATCH_SUMMARY_FILE), `${JSON.stringify({ samstar_version: packageVersion(), ...summary }, null, 2)}\n`).catch(() => undefined);
  return summary;
}

async function processFrame(path: string, index: number, readyAt: number, options: WatchOptions, fixedKnobs: KnobValues, out: string): Promise<WatchFrameResult> {
  const t0 = performance.now();
  const frame = await loadFrame(path, { channel: options.channel, pixelSizeNm: options.pixelSizeNm });
  let knobs = fixedKnobs;
  let decideMs = 0;
  let tuned: KnobValues = {};
  if (options.policy) {
    const choice = options.policy.choose(frame, options.segmenter.knobs);
    knobs = choice.knobs;
    decideMs = choice.ms;
    tuned = choice.tuned;
  }
  let segmentation: Segmentation;
  let reward: { total: number; terms: Record<string, number> } | undefined;
  let adaptMs = 0;
  let adapt: WatchFrameResult['adapt'];
  if (options.adapter) {
    const r = await options.adapter.adapt(frame, knobs, { id: path });
    segmentation = r.segmentation;
    reward = { total: r.total, terms: r.terms };
    adaptMs = r.ms - r.firstMs;
    adapt = { evaluations: r.evaluations, baseTotal: r.baseTotal };
    tuned = { ...tuned, ...r.tuned };
  } else {
    segmentation = await options.segmenter.segment(frame, knobs);
    if (options.reward) {
      const r = evaluateReward(options.reward, segmentation, { frame, source: path });
      reward = { total: r.total, terms: r.terms };
    }
  }
  const outputs = await writeSegmentationOutputs(out, frame, segmentation, {
    ...(options.provenance ?? {}),
    ...(options.policy ? { policy: options.policy.describe() } : {}),
    decision: { ms: decideMs, tuned, ...(adapt ? { adapt: { ...adapt, ms: adaptMs } } : {}) },
    ...(reward ? { reward } : {}),
  });
  const end = performance.now();
  return { index, file: path, count: segmentation.instances.length, decideMs, adaptMs, totalMs: end - t0, latencyMs: end - readyAt, ...(reward ? { reward } : {}), tuned, ...(adapt ? { adapt } : {}), outputs };
}

function summarise(dir: string, out: string, results: readonly WatchFrameResult[], failures: readonly WatchFailure[], seconds: number, options: WatchOptions): WatchSummary {
  const latencies = results.map((r) => r.latencyMs).sort((a, b) => a - b);
  const q = (p: number): number | null => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : null);
  const mean = (v: readonly number[]): number | null => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : null);
  const rewarded = results.filter((r) => r.reward);
  const meanTerms: Record<string, number> = {};
  for (const r of rewarded) for (const [k, v] of Object.entries(r.reward!.terms)) meanTerms[k] = (meanTerms[k] ?? 0) + v / rewarded.length;
  return {
    dir,
    out,
    frames: results.length,
    failed: failures.length,
    seconds,
    latencyMs: { mean: mean(latencies), p50: q(0.5), p95: q(0.95), max: latencies.length ? latencies[latencies.length - 1] : null },
    decideMs: { mean: mean(results.map((r) => r.decideMs)), max: results.length ? Math.max(...results.map((r) => r.decideMs)) : null },
    meanCount: mean(results.map((r) => r.count)),
    meanReward: mean(rewarded.map((r) => r.reward!.total)),
    meanTerms,
    policy: options.policy ? options.policy.describe() : null,
    adapt: options.adapter !== undefined,
    failures: [...failures],
  };
}

/** The live line of one frame. */
export function formatWatchLine(r: WatchFrameResult): string {
  const name = r.file.split(/[\\/]/).pop();
  const parts = [`[${String(r.index).padStart(4)}] ${name}`, `count ${r.count}`, `decide ${r.decideMs.toFixed(2)} ms`];
  if (r.adapt) parts.push(`adapt ${r.adaptMs.toFixed(0)} ms (${r.adapt.evaluations} evals, ${fmt(r.adapt.baseTotal)} → ${fmt(r.reward?.total)})`);
  parts.push(`latency ${r.latencyMs.toFixed(0)} ms`);
  if (r.reward) parts.push(`reward ${fmt(r.reward.total)} (${Object.entries(r.reward.terms).map(([k, v]) => `${k} ${fmt(v, 3)}`).join(', ')})`);
  return parts.join('  ');
}

/** The summary printed on Ctrl-C. */
export function formatWatchSummary(s: WatchSummary): string {
  const lines = [
    `watched ${s.dir} for ${s.seconds.toFixed(1)} s: ${s.frames} frame(s) segmented, ${s.failed} failed${s.policy ? ` (policy ${s.policy.id}, ${s.policy.kind}${s.adapt ? ' + online adaptation' : ''})` : s.adapt ? ' (online adaptation)' : ''}`,
  ];
  if (s.frames) {
    lines.push(`  latency: mean ${fmt(s.latencyMs.mean, 0)} ms, p50 ${fmt(s.latencyMs.p50, 0)} ms, p95 ${fmt(s.latencyMs.p95, 0)} ms, max ${fmt(s.latencyMs.max, 0)} ms; decision mean ${fmt(s.decideMs.mean, 2)} ms`);
    lines.push(`  mean count ${fmt(s.meanCount, 1)}${s.meanReward !== null ? `, mean reward ${fmt(s.meanReward)} (${Object.entries(s.meanTerms).map(([k, v]) => `${k} ${fmt(v, 3)}`).join(', ')})` : ''}`);
  }
  for (const f of s.failures) lines.push(`  failed: ${f.file}: ${f.error.split('\n')[0]}`);
  lines.push(`  outputs in ${s.out} (summary: ${WATCH_SUMMARY_FILE})`);
  return lines.join('\n');
}

function fmt(v: number | null | undefined, digits = 4): string {
  return v === null || v === undefined || Number.isNaN(v) ? '—' : v.toFixed(digits);
}
