import { resolve } from 'node:path';
import type { Frame } from '../image/frame.js';
import { readKnobInput } from '../segmenters/knob-input.js';
import type { KnobSpace, KnobValues } from '../segmenters/knobs.js';
import type { Policy } from '../policy/policy.js';
import { SamstarError } from '../util/errors.js';

/**
 * What chooses the knobs for each frame the server segments: a fixed setting, or
 * a per-frame policy. `describe()` is what `GET /v1/policy` shows.
 */
export interface KnobChooser {
  describe(): object;
  choose(frame: Frame): Promise<KnobValues>;
}

/** The same knob values for every frame (from `--knobs`, or the defaults). */
export class FixedKnobChooser implements KnobChooser {
  constructor(
    private readonly knobs: KnobValues,
    private readonly source: string,
  ) {}

  describe(): object {
    return { kind: 'fixed', source: this.source, knobs: { ...this.knobs } };
  }

  async choose(): Promise<KnobValues> {
    return this.knobs;
  }
}

export interface ChooserInput {
  /** `--knobs`: inline JSON or a JSON/YAML file (a `samstar train` best-knobs.json is accepted). */
  readonly knobs?: string;
  /** `--policy`: a policy artefact folder (DIR/policy.json, and weights for a network policy). */
  readonly policy?: string;
}

/**
 * The chooser for `samstar serve`: `--knobs` (validated against the segmenter's
 * knob space now, so a typo fails at start-up naming the knob), `--policy DIR`,
 * or the segmenter's defaults. `segmenterName` and `space` are the segmenter's
 * (a policy is checked against them); no model needs to be loaded.
 */
export async function loadKnobChooser(input: ChooserInput, segmenterName: string, space: KnobSpace): Promise<KnobChooser> {
  if (input.knobs !== undefined && input.policy !== undefined) {
    throw new SamstarError('ARGUMENT_INVALID', '--knobs and --policy are alternatives: a policy chooses the knobs itself', {
      hint: 'pass one of them',
    });
  }
  if (input.policy !== undefined) return PolicyKnobChooser.load(input.policy, { name: segmenterName, knobs: space });
  if (input.knobs !== undefined) {
    const { values, source } = await readKnobInput(input.knobs);
    return new FixedKnobChooser(space.resolve(values, source), source);
  }
  return new FixedKnobChooser(space.defaults(), 'defaults');
}

/**
 * Knobs chosen per frame by a policy artefact (`samstar train` writes OUT/policy/):
 * static or network policies of src/policy, checked against the segmenter's knob
 * space when loaded. The decision (features + forward pass) is the `choose` time
 * of each answer.
 */
export class PolicyKnobChooser implements KnobChooser {
  private constructor(
    /** The loaded policy (serve --adapt reads its adaptation settings and training reward). */
    readonly policy: Policy,
    private readonly space: KnobSpace,
  ) {}

  static async load(dir: string, segmenter: { readonly name: string; readonly knobs: KnobSpace }): Promise<PolicyKnobChooser> {
    const { Policy } = await import('../policy/policy.js');
    return new PolicyKnobChooser(await Policy.load(dir, { segmenter }), segmenter.knobs);
  }

  describe(): object {
    const m = this.policy.manifest;
    return {
      kind: 'policy',
      source: this.policy.dir,
      id: m.id,
      policy_kind: m.kind,
      agent: m.provenance.agent.name,
      segmenter: m.segmenter,
      tuned: m.knobSpace.map((k) => k.name),
      fixed: { ...m.fixed },
      // A static policy's knobs; a network policy chooses them per frame from these features.
      ...(m.kind === 'static' ? { knobs: this.space.resolve({ ...m.fixed, ...(m.knobs ?? {}) }, `policy ${m.id}`) } : { features: [...m.features.names] }),
      ...(m.adaptive ? { adaptive: true, note: 'the policy asks for online adaptation: samstar serve runs it only with --adapt' } : {}),
    };
  }

  async choose(frame: Frame): Promise<KnobValues> {
    return this.policy.choose(frame, this.space).knobs;
  }
}

/** The policy folder's segmenter (so `--policy DIR` alone picks the segmenter it was trained for). */
export async function policySegmenter(dir: string): Promise<string> {
  const { readPolicyManifest } = await import('../policy/artefact.js');
  return (await readPolicyManifest(resolve(dir))).segmenter;
}
