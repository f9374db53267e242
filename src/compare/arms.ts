import { getSegmenter, loadTaskSegmenter } from '../segmenters/registry.js';
import type { Segmenter } from '../segmenters/types.js';
import { withSegmenter, type ResolvedTask } from '../train/task.js';
import { SamstarError } from '../util/errors.js';

/**
 * A comparison's arms: what one column of its summary is. With the task's own
 * segmenter only, an arm is an agent ("cmaes"), as comparisons always were;
 * with several segmenters (`samstar compare --segmenters sam,blobs`) it is a
 * segmenter and an agent ("blobs+cmaes"), each segmenter tuning its own knobs
 * (the task's for its own segmenter, the other segmenters' default tuned knobs).
 */
export interface CompareArm {
  /** The column's name: the agent, or "SEGMENTER+AGENT"; also its run folders' stem. */
  readonly label: string;
  readonly agent: string;
  readonly segmenter: string;
}

export const ARM_SEPARATOR = '+';

/** The agent of an arm label ("blobs+cmaes" → "cmaes"; "cmaes" → "cmaes"). */
export function armAgent(label: string): string {
  return label.slice(label.lastIndexOf(ARM_SEPARATOR) + 1);
}

/** The segmenter an arm label names, if it names one ("blobs+cmaes" → "blobs"; "cmaes" → undefined). */
export function armSegmenter(label: string): string | undefined {
  const at = label.lastIndexOf(ARM_SEPARATOR);
  return at < 0 ? undefined : label.slice(0, at);
}

/** Segmenter × agent arms, segmenter-major (all agents on the first segmenter, then the next). */
export function compareArms(base: ResolvedTask, agents: readonly string[], segmenters?: readonly string[]): CompareArm[] {
  const own = base.segmenter.name ?? 'sam';
  const names = segmenters === undefined || segmenters.length === 0 ? [own] : [...segmenters];
  for (const name of names) getSegmenter(name, '--segmenters');
  if (new Set(names).size !== names.length) throw new SamstarError('ARGUMENT_INVALID', `--segmenters lists a segmenter twice (${names.join(', ')})`);
  if (names.length === 1 && names[0] === own) return agents.map((agent) => ({ label: agent, agent, segmenter: own }));
  return names.flatMap((segmenter) => agents.map((agent) => ({ label: `${segmenter}${ARM_SEPARATOR}${agent}`, agent, segmenter })));
}

/** The task an arm's runs tune: the base task on the arm's segmenter (named by the label, else the task's own). */
export function armTask(base: ResolvedTask, label: string): ResolvedTask {
  const segmenter = armSegmenter(label);
  return segmenter === undefined ? base : withSegmenter(base, segmenter);
}

/**
 * The segmenters of a comparison's arms, one per name, shared by all runs on it
 * (their stage caches then serve every agent and seed). Given ones are used as
 * they are; the others are loaded on first use and disposed by dispose().
 */
export class ArmSegmenters {
  private readonly byName = new Map<string, Segmenter>();
  private readonly owned: Segmenter[] = [];

  constructor(
    private readonly base: ResolvedTask,
    given: readonly (Segmenter | undefined)[] = [],
  ) {
    for (const segmenter of given) if (segmenter && !this.byName.has(segmenter.name)) this.byName.set(segmenter.name, segmenter);
  }

  async get(name: string): Promise<Segmenter> {
    const known = this.byName.get(name);
    if (known) return known;
    const segmenter = await loadTaskSegmenter(withSegmenter(this.base, name).segmenter);
    this.byName.set(name, segmenter);
    this.owned.push(segmenter);
    return segmenter;
  }

  /** Load the segmenters of these arm labels (those that name one). */
  async preload(labels: readonly string[]): Promise<void> {
    for (const label of labels) {
      const name = armSegmenter(label);
      if (name !== undefined) await this.get(name);
    }
  }

  /** A segmenter already given or loaded (get() loads). */
  loaded(name: string): Segmenter {
    const known = this.byName.get(name);
    if (!known) throw new SamstarError('ARGUMENT_INVALID', `the ${name} segmenter is not loaded`, { hint: 'preload() the arms first' });
    return known;
  }

  /** Every segmenter in use (given or loaded). */
  all(): Segmenter[] {
    return [...this.byName.values()];
  }

  async dispose(): Promise<void> {
    for (const segmenter of this.owned.splice(0)) {
      this.byName.delete(segmenter.name);
      await segmenter.dispose();
    }
  }
}
