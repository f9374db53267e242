import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { AdaptSettings, PolicyProvenance } from '../policy/artefact.js';
import { ADAPT_DEFAULTS, filterKnobNames } from '../policy/adapt.js';
import type { KnobSpace } from '../segmenters/knobs.js';
import { parseFrameRef } from '../image/frame-ref.js';
import { packageVersion } from '../util/package-root.js';
import type { ResolvedTask } from './task.js';

/**
 * sha256 over the training frames: each file's name and the sha256 of its
 * bytes, in task order. The same files give the same hash wherever they lie.
 */
export async function dataHash(files: readonly string[]): Promise<string> {
  const all = createHash('sha256');
  for (const file of files) {
    // A frame of a stack (stack.tif#t0003) hashes its file's bytes under its own name.
    const { file: path } = parseFrameRef(file);
    const own = createHash('sha256').update(await readFile(path)).digest('hex');
    all.update(`${basename(file)}\0${own}\n`);
  }
  return all.digest('hex');
}

/** What a policy trained on `task` records about its making. */
export async function policyProvenance(task: ResolvedTask, extra: Partial<PolicyProvenance> = {}): Promise<PolicyProvenance> {
  return {
    agent: { name: task.agent.name, options: { ...task.agent.options } },
    seed: task.seed,
    created: new Date().toISOString(),
    config: task,
    dataHash: await dataHash(task.data.frames),
    frames: task.data.frames.length,
    reward: task.reward.config,
    samstar: packageVersion(),
    ...extra,
  };
}

/** Adaptation settings stored with a policy: its filter-stage tuned knobs with the adapter's defaults (undefined without any). */
export function defaultAdaptSettings(tuned: KnobSpace, segmenterKnobs: KnobSpace): AdaptSettings | undefined {
  const filter = new Set(filterKnobNames(segmenterKnobs));
  const knobs = tuned.names.filter((n) => filter.has(n));
  return knobs.length ? { knobs, budget: ADAPT_DEFAULTS.budget, sigma: ADAPT_DEFAULTS.sigma, popsize: ADAPT_DEFAULTS.popsize } : undefined;
}
