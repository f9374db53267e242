import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { GaussianPolicy } from '../../agents/policy/gaussian-policy.js';
import type { PolicyAgent } from '../../agents/policy/types.js';
import { WEIGHTS_JSON } from '../../agents/policy/weights.js';
import { featureSpec, frameFeatures, type FeatureSpec } from '../image/features.js';
import type { Frame } from '../image/frame.js';
import { KnobMapping } from '../segmenters/knob-mapping.js';
import { KnobSpace, type KnobSpec, type KnobValues } from '../segmenters/knobs.js';
import { SamstarError } from '../util/errors.js';
import { lookupX, type LookupTable } from './lookup.js';
import {
  checkPolicy,
  readPolicyManifest,
  writePolicyArtefact,
  type AdaptSettings,
  type PolicyManifest,
  type PolicyManifestInput,
  type PolicyProvenance,
} from './artefact.js';

/**
 * A loaded policy: per-frame knob choice for deployment (`samstar segment
 * --policy`, `samstar watch`). Network policies run the Gaussian policy's mean
 * in plain JS (no tfjs), so a decision is the frame's features plus a small
 * MLP forward pass.
 */
export interface KnobChoice {
  /** The full resolved knob vector to segment with. */
  readonly knobs: KnobValues;
  /** The tuned knobs only. */
  readonly tuned: KnobValues;
  /** The tuned knobs normalised to [−1, 1]. */
  readonly x: number[];
  /** Decision time (features + forward pass for network policies), ms. */
  readonly ms: number;
}

export interface LoadPolicyOptions {
  /** Check the artefact against this segmenter (its name and knob space); every mismatch is listed in one error. */
  readonly segmenter?: { readonly name: string; readonly knobs: KnobSpace };
  /** The feature spec to check against (default: this build's). */
  readonly features?: FeatureSpec;
}

export class Policy {
  readonly dir: string;
  readonly manifest: PolicyManifest;
  /** The tuned knob space (the network's action order). */
  readonly space: KnobSpace;
  private readonly network?: GaussianPolicy;
  private readonly staticX?: number[];
  private mapping?: KnobMapping;

  private constructor(dir: string, manifest: PolicyManifest, network?: GaussianPolicy) {
    this.dir = dir;
    this.manifest = manifest;
    this.space = new KnobSpace(manifest.knobSpace);
    this.network = network;
    if (manifest.kind === 'static') this.staticX = this.space.toNormalised(manifest.knobs ?? {});
  }

  /** Read a policy folder; with `segmenter`, check that it fits (unknown knobs, bounds, feature spec). */
  static async load(dir: string, options: LoadPolicyOptions = {}): Promise<Policy> {
    const where = resolve(dir);
    const manifest = await readPolicyManifest(where);
    if (options.segmenter) checkPolicy(where, manifest, options.segmenter, options.features);
    let network: GaussianPolicy | undefined;
    if (manifest.kind === 'network') {
      network = await GaussianPolicy.load(join(where, manifest.network!.weights));
      const net = manifest.network!;
      if (network.observationSize !== net.observationSize || network.actionSize !== net.actionSize) {
        throw new SamstarError('MODEL_INVALID', `${join(where, manifest.network!.weights, WEIGHTS_JSON)}: the network is ${network.observationSize}→${network.actionSize}, policy.json says ${net.observationSize}→${net.actionSize}`, {
          hint: 'the folder mixes files of two policies; write it again (samstar train)',
        });
      }
      if (network.observationSize !== manifest.features.names.length || network.actionSize !== manifest.knobSpace.length) {
        throw new SamstarError('MODEL_INVALID', `${where}: the network is ${network.observationSize}→${network.actionSize}, but the policy lists ${manifest.features.names.length} features and ${manifest.knobSpace.length} tuned knobs`);
      }
    }
    return new Policy(where, manifest, network);
  }

  get id(): string {
    return this.manifest.id;
  }

  get kind(): PolicyManifest['kind'] {
    return this.manifest.kind;
  }

  get segmenterName(): string {
    return this.manifest.segmenter;
  }

  get fixed(): KnobValues {
    return { ...this.manifest.fixed };
  }

  /** Whether choosing reads the frame's features (network and lookup policies). */
  get readsFeatures(): boolean {
    return this.manifest.kind !== 'static';
  }

  /** The normalised tuned knobs for a feature vector (network, lookup; in the policy's feature order) or the stored ones (static). */
  chooseX(features?: ArrayLike<number>): number[] {
    if (this.manifest.kind === 'lookup') {
      if (!features) throw new SamstarError('ARGUMENT_INVALID', `policy ${this.id}: a lookup policy needs the frame's features`);
      return lookupX(this.manifest.lookup!, this.manifest.features.names, features, this.space);
    }
    if (this.network) {
      if (!features) throw new SamstarError('ARGUMENT_INVALID', `policy ${this.id}: a network policy needs the frame's features`);
      return this.network.act(features, { deterministic: true }).action;
    }
    return [...this.staticX!];
  }

  /**
   * The knobs for one frame. `segmenterKnobs` resolves the full vector (fixed ∪
   * tuned ∪ the segmenter's defaults) and validates it.
   */
  choose(frame: Frame, segmenterKnobs: KnobSpace): KnobChoice {
    const started = performance.now();
    const x = this.readsFeatures ? this.chooseX(frameFeatures(frame, this.manifest.features.version)) : this.chooseX();
    const tuned = this.space.fromNormalised(x);
    const ms = performance.now() - started;
    const knobs = this.mappingFor(segmenterKnobs).knobsOf(x);
    return { knobs, tuned, x, ms };
  }

  /** The policy's point → knobs mapping onto a segmenter's knob space (built once per space). */
  mappingFor(segmenterKnobs: KnobSpace): KnobMapping {
    if (this.mapping?.full !== segmenterKnobs) this.mapping = new KnobMapping(segmenterKnobs, this.space, this.manifest.fixed, `policy ${this.id}`);
    return this.mapping;
  }

  /** What output records carry: which policy chose the knobs. */
  describe(): { id: string; kind: string; adaptive: boolean; dir: string; agent: string } {
    return { id: this.id, kind: this.kind, adaptive: this.manifest.adaptive, dir: this.dir, agent: this.manifest.provenance.agent.name };
  }
}

/**
 * Write a lookup policy: k nearest neighbours from frame features to the best
 * knobs found per training frame (src/policy/lookup.ts).
 */
export async function writeLookupPolicy(dir: string, input: PolicyWriteInput & { readonly lookup: LookupTable; readonly features?: FeatureSpec }): Promise<PolicyManifest> {
  const features = input.features ?? featureSpec();
  for (const name of input.lookup.features) {
    if (!features.names.includes(name)) throw new SamstarError('ARGUMENT_INVALID', `lookup policy: feature "${name}" is not in the feature spec ${features.version}`);
  }
  for (const [i, e] of input.lookup.examples.entries()) {
    if (e.x.length !== input.knobSpace.length) throw new SamstarError('ARGUMENT_INVALID', `lookup policy: example ${i} has ${e.x.length} knob values for ${input.knobSpace.length} tuned knobs`);
  }
  return writePolicyArtefact(dir, { ...commonFields('lookup', input, features), lookup: input.lookup });
}

/** The manifest fields every kind of policy writes, in one place. */
function commonFields(kind: PolicyManifest['kind'], input: PolicyWriteInput, features: FeatureSpec): Omit<PolicyManifestInput, 'knobs' | 'lookup' | 'network' | 'normalization'> {
  return {
    kind,
    adaptive: input.adaptive ?? false,
    ...(input.adapt ? { adapt: input.adapt } : {}),
    segmenter: input.segmenter,
    knobSpace: [...input.knobSpace],
    fixed: { ...input.fixed },
    features: { version: features.version, names: [...features.names] },
    provenance: input.provenance,
  };
}

/** Common inputs of the writers. */
export interface PolicyWriteInput {
  readonly segmenter: string;
  readonly knobSpace: readonly KnobSpec[];
  readonly fixed: KnobValues;
  readonly provenance: PolicyProvenance;
  readonly adaptive?: boolean;
  readonly adapt?: AdaptSettings;
}

/** Write a static policy (the same tuned knobs for every frame). */
export async function writeStaticPolicy(dir: string, input: PolicyWriteInput & { readonly knobs: KnobValues }): Promise<PolicyManifest> {
  // `knobs` holds the fixed and the tuned values together, so that policy.json alone reproduces the setting.
  const tuned: KnobValues = { ...input.fixed };
  for (const spec of input.knobSpace) {
    if (!(spec.name in input.knobs)) throw new SamstarError('ARGUMENT_INVALID', `static policy: no value for tuned knob "${spec.name}"`);
    tuned[spec.name] = input.knobs[spec.name];
  }
  return writePolicyArtefact(dir, { ...commonFields('static', input, featureSpec()), knobs: tuned });
}

/**
 * Write a network policy: the agent's save(dir) files (weights.json +
 * weights.bin, with the normalisation statistics) next to policy.json. The
 * agent's observation statistics are frozen first (deployment must see the
 * inputs it was trained on).
 */
export async function writeNetworkPolicy(dir: string, input: PolicyWriteInput & { readonly agent: PolicyAgent; readonly features?: FeatureSpec }): Promise<PolicyManifest> {
  const features = input.features ?? featureSpec();
  const { agent } = input;
  if (agent.observationSize !== features.names.length) {
    throw new SamstarError('ARGUMENT_INVALID', `network policy: the agent reads ${agent.observationSize} values, the feature spec has ${features.names.length}`);
  }
  if (agent.actionSize !== input.knobSpace.length) {
    throw new SamstarError('ARGUMENT_INVALID', `network policy: the agent outputs ${agent.actionSize} values for ${input.knobSpace.length} tuned knobs`);
  }
  agent.freezeNormalizer(true);
  return writePolicyArtefact(dir, async (tmp) => {
    await agent.save(tmp);
    const weights = JSON.parse(await readFile(join(tmp, WEIGHTS_JSON), 'utf8')) as { sha256: string; meta: { normalizer: PolicyManifest['normalization']; policy: { hidden: number[] } } };
    return {
      ...commonFields('network', input, features),
      normalization: weights.meta.normalizer,
      network: {
        weights: '.',
        agent: agent.name,
        observationSize: agent.observationSize,
        actionSize: agent.actionSize,
        hidden: [...weights.meta.policy.hidden],
        sha256: weights.sha256,
      },
    };
  });
}
