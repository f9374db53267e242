import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { AdaptSettings, PolicyProvenance } from '../policy/artefact.js';
import { ADAPT_DEFAULTS, filterKnobNames } from '../policy/adapt.js';
import type { KnobSpace } from '../segmenters/knobs.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../util/package-root.js';
import type { ResolvedTask } from './task.js';

/**
 * sha256 over the training frames: each file's name and the sha256 of its
 * bytes, in task order. The same files give the same hash wherever they lie.
 */
export async function dataHash(files: readonly string[]): Promise<string> {
  const all = createHash('sha256');
  for (const file of files) {
    const own = createHash('sha256').update(await readFile(file)).digest('hex');
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

let version: string | undefined;
function packageVersion(): string {
  if (version === undefined) {
    try {
      version = String((JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown');
    } catch {
      version = 'unknown';
    }
  }
  return version;
}

/** Adaptation settings stored with a policy: its filter-stage tuned knobs with the adapter's defaults (undefined without any). */
export function defaultAdaptSettings(tuned: KnobSpace, segmenterKnobs: KnobSpace): AdaptSettings | undefined {
  const filter = new Set(filterKnobNames(segmenterKnobs));
  const knobs = tuned.names.filter((n) => filter.has(n));
  return knobs.length ? { knobs, budget: ADAPT_DEFAULTS.budget, sigma: ADAPT_DEFAULTS.sigma, popsize: ADAPT_DEFAULTS.popsize } : undefined;
}
