import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { RunningStatsJSON } from '../../agents/policy/running-stats.js';
import { FEATURE_NAMES, FEATURE_VERSIONS, featureNamesOf, featureSpec, type FeatureSpec } from '../image/features.js';
import type { KnobSpace, KnobSpec, KnobValues } from '../segmenters/knobs.js';
import { SamstarError, suggestName } from '../util/errors.js';
import { checkLookupTable, type LookupTable } from './lookup.js';

/**
 * The policy artefact: a folder that says how to choose knobs for a frame.
 *
 *   policy.json    this manifest (format, version, id, kind, knob space, fixed
 *                  knobs, segmenter, feature spec, normalisation, adaptation
 *                  settings, provenance)
 *   weights.json   network policies only: the policy-gradient agent's save(dir)
 *   weights.bin    (tensors + normalisation statistics; agents/policy/weights.ts)
 *
 * Kinds:
 *  - 'static': the same knobs for every frame (what CMA-ES, BO, grid or random
 *    search found: `knobs`, the tuned values with the fixed ones repeated);
 *  - 'network': a Gaussian policy maps the frame's features (the feature spec
 *    below, in order) to the normalised tuned-knob vector; deployment takes its
 *    mean (deterministic);
 *  - 'lookup': k nearest neighbours from the frame's features to the best knobs
 *    found per training frame (`lookup`, src/policy/lookup.ts).
 * `adaptive: true` asks deployments to refine the choice per frame with online
 * adaptation (src/policy/adapt.ts) using `adapt` (knobs, budget, σ);
 * `samstar watch --adapt` turns it on for any policy.
 *
 * The folder is written atomically: everything goes into a temporary sibling
 * folder, which is renamed into place (an existing folder is first renamed
 * aside, then removed), so a reader sees the old artefact or the new one,
 * never a mixture.
 */
export const POLICY_FILE = 'policy.json';
export const POLICY_FORMAT = 'samstar-policy';
export const POLICY_FORMAT_VERSION = 1;

export type PolicyKind = 'static' | 'network' | 'lookup';

/** Online adaptation settings stored with a policy. */
export interface AdaptSettings {
  /** The knobs adaptation moves (filter-stage knobs of the tuned space). */
  readonly knobs: string[];
  /** Evaluations per frame (the starting point included). */
  readonly budget: number;
  /** CMA-ES step size in normalised units. */
  readonly sigma: number;
  readonly popsize?: number;
}

export interface PolicyProvenance {
  /** The training agent and its options. */
  readonly agent: { readonly name: string; readonly options: Record<string, unknown> };
  readonly seed: number;
  /** ISO time the artefact was made. */
  readonly created: string;
  /** The resolved task config (or anything JSON that describes how the policy was made). */
  readonly config?: unknown;
  /** sha256 over the training frames (names and contents). */
  readonly dataHash?: string;
  readonly frames?: number;
  /** The reward config (parsed; `compileReward` takes it as is). */
  readonly reward?: unknown;
  readonly study?: string;
  readonly evaluations?: number;
  /** Mean training reward of the policy (static: the best knobs' total; network: the deterministic policy over the training frames). */
  readonly trainReward?: number;
  readonly defaultReward?: number;
  readonly samstar?: string;
  readonly [key: string]: unknown;
}

export interface PolicyManifest {
  readonly format: typeof POLICY_FORMAT;
  readonly version: number;
  /** "policy-" + 16 hex of the sha256 of the manifest (id excluded) and the weights' checksum. */
  readonly id: string;
  readonly kind: PolicyKind;
  readonly adaptive: boolean;
  readonly adapt?: AdaptSettings;
  /** Segmenter name ("sam", "blobs"). */
  readonly segmenter: string;
  /** The tuned knobs (order = the network's action order), with the bounds they were tuned in. */
  readonly knobSpace: KnobSpec[];
  /** Knobs held at a value; the segmenter's defaults fill the rest. */
  readonly fixed: KnobValues;
  /** Static policies: the knobs' values (the tuned ones, and the fixed ones repeated, so this object alone reproduces the setting). */
  readonly knobs?: KnobValues;
  /** The frame features the network reads (names in order, and the definitions' version). */
  readonly features: FeatureSpec;
  /** Lookup policies: the examples (features → best knobs per training frame) and the distance's standardisation. */
  readonly lookup?: LookupTable;
  /** Network policies: the observation normalisation statistics (copied from weights.json; informative). */
  readonly normalization?: RunningStatsJSON;
  /** Network policies: where the weights are and what they are. */
  readonly network?: {
    readonly weights: string;
    readonly agent: string;
    readonly observationSize: number;
    readonly actionSize: number;
    readonly hidden: number[];
    /** sha256 of weights.bin (as recorded in weights.json). */
    readonly sha256: string;
  };
  readonly provenance: PolicyProvenance;
}

/** What the writer is given: the manifest without its id and format fields. */
export type PolicyManifestInput = Omit<PolicyManifest, 'format' | 'version' | 'id'>;

/** Canonical JSON (sorted keys) for hashing. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function policyId(manifest: PolicyManifestInput): string {
  return `policy-${createHash('sha256').update(canonical({ format: POLICY_FORMAT, version: POLICY_FORMAT_VERSION, ...manifest })).digest('hex').slice(0, 16)}`;
}

/**
 * Write a policy folder atomically. `input` is the manifest, or a function that
 * first writes other files (the network's weights) into the temporary folder
 * and returns the manifest; policy.json is written last, then the folder is
 * renamed into place. Returns the manifest written.
 */
export async function writePolicyArtefact(dir: string, input: PolicyManifestInput | ((tmp: string) => Promise<PolicyManifestInput>)): Promise<PolicyManifest> {
  const target = resolve(dir);
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  const stamp = `${process.pid}.${Date.now()}.${randomBytes(3).toString('hex')}`;
  const tmp = join(parent, `.${basename(target)}.${stamp}.tmp`);
  const old = join(parent, `.${basename(target)}.${stamp}.old`);
  await mkdir(tmp, { recursive: true });
  try {
    const fields = typeof input === 'function' ? await input(tmp) : input;
    const manifest: PolicyManifest = { format: POLICY_FORMAT, version: POLICY_FORMAT_VERSION, id: policyId(fields), ...fields };
    await writeFile(join(tmp, POLICY_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    // rename() cannot replace a non-empty folder: move the old one aside first.
    const hadOld = existsSync(target);
    if (hadOld) await rename(target, old);
    try {
      await rename(tmp, target);
    } catch (error) {
      if (hadOld) await rename(old, target).catch(() => undefined);
      throw error;
    }
    if (hadOld) await rm(old, { recursive: true, force: true });
    return manifest;
  } catch (error) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    if (error instanceof SamstarError) throw error;
    throw new SamstarError('IO_ERROR', `cannot write the policy folder ${target}: ${(error as Error).message}`, { cause: error, hint: 'check that the folder is writable and the disk is not full' });
  }
}

/** Read policy.json (format and shape checks only; see checkPolicy for the fit to a segmenter). */
export async function readPolicyManifest(dir: string): Promise<PolicyManifest> {
  const path = join(dir, POLICY_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new SamstarError('MODEL_NOT_FOUND', `no policy at ${dir}: ${POLICY_FILE} is missing (${(error as NodeJS.ErrnoException).code ?? String(error)})`, {
      hint: 'pass the policy folder that `samstar train` wrote (OUT/policy)',
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new SamstarError('MODEL_INVALID', `${path}: not valid JSON (${(error as Error).message})`);
  }
  const bad = (what: string, hint?: string): never => {
    throw new SamstarError('MODEL_INVALID', `${path}: ${what}`, { hint: hint ?? 'write the policy again (samstar train)' });
  };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) bad('expected an object');
  // Policies written before segmenters were named in policy.json were all trained on sam.
  const record = raw as Record<string, unknown>;
  const m = ('segmenter' in record ? record : { ...record, segmenter: 'sam' }) as unknown as PolicyManifest;
  if (m.format !== POLICY_FORMAT) bad(`format is ${JSON.stringify(m.format)}, expected "${POLICY_FORMAT}"`);
  if (m.version !== POLICY_FORMAT_VERSION) bad(`version ${JSON.stringify(m.version)} is not supported (this samstar reads version ${POLICY_FORMAT_VERSION})`, 'upgrade samstar or train the policy again');
  if (m.kind !== 'static' && m.kind !== 'network' && m.kind !== 'lookup') bad(`kind is ${JSON.stringify(m.kind)}, expected "static", "network" or "lookup"`);
  if (typeof m.id !== 'string' || !m.id) bad('id is missing');
  if (typeof m.segmenter !== 'string') bad('segmenter is missing');
  if (!Array.isArray(m.knobSpace) || m.knobSpace.length === 0) bad('knobSpace must list at least one tuned knob');
  for (const [i, s] of m.knobSpace.entries()) {
    if (!s || typeof s.name !== 'string' || typeof s.kind !== 'string') bad(`knobSpace[${i}] must have a name and a kind`);
  }
  if (m.fixed === null || typeof m.fixed !== 'object' || Array.isArray(m.fixed)) bad('fixed must be an object of knob values');
  if (!m.features || typeof m.features.version !== 'string' || !Array.isArray(m.features.names)) bad('features must be { version, names }');
  if (typeof m.adaptive !== 'boolean') bad('adaptive must be true or false');
  if (m.kind === 'static' && (m.knobs === null || typeof m.knobs !== 'object')) bad('a static policy needs knobs (the tuned values)');
  if (m.kind === 'network') {
    if (!m.network || typeof m.network.weights !== 'string') bad('a network policy needs network.weights (the folder of weights.json, "." for this one)');
    const weights = m.network!.weights;
    if (isAbsolute(weights) || weights.split(/[\\/]/).includes('..')) bad(`network.weights must be a folder inside the policy folder, got ${JSON.stringify(weights)}`);
  }
  if (m.kind === 'lookup') {
    checkLookupTable(m.lookup, m.knobSpace.length, bad);
    const unknown = m.lookup!.features.filter((n) => !m.features.names.includes(n));
    if (unknown.length) bad(`lookup.features ${unknown.map((n) => JSON.stringify(n)).join(', ')} are not in features.names`);
  }
  if (!m.provenance || typeof m.provenance !== 'object') bad('provenance is missing');
  return m;
}

/**
 * Everything about a policy that does not fit this segmenter and this build's
 * frame features, one line each (empty when it fits):
 *  - a segmenter of another name;
 *  - a tuned or fixed knob the segmenter does not have (with a suggestion), of
 *    another kind, with bounds outside the segmenter's, or choices it does not know;
 *  - a fixed or static value the segmenter refuses;
 *  - network policies: a feature version or feature names other than this
 *    build's, and network sizes that disagree with the knob space / features.
 * Static policies read no features, so their feature spec is not checked.
 */
export function policyMismatches(manifest: PolicyManifest, segmenter: { name: string; knobs: KnobSpace }, expected?: FeatureSpec): string[] {
  const problems: string[] = [];
  if (manifest.segmenter !== segmenter.name) problems.push(`segmenter: the policy is for "${manifest.segmenter}", the segmenter is "${segmenter.name}"`);
  const known = segmenter.knobs.names;
  for (const spec of manifest.knobSpace) {
    if (!known.includes(spec.name)) {
      problems.push(`unknown knob "${spec.name}" (tuned): the ${segmenter.name} segmenter has no such knob; ${suggestName(spec.name, known)}`);
      continue;
    }
    const own = segmenter.knobs.spec(spec.name);
    if (own.kind !== spec.kind) {
      problems.push(`knob "${spec.name}": ${spec.kind} in the policy, ${own.kind} in the segmenter`);
      continue;
    }
    if (spec.kind === 'choice' && own.kind === 'choice') {
      const unknown = (spec.choices ?? []).filter((c) => !own.choices.includes(c));
      if (unknown.length) problems.push(`knob "${spec.name}": choices ${unknown.map((c) => JSON.stringify(c)).join(', ')} are not the segmenter's (${own.choices.join(', ')})`);
    } else if (spec.kind !== 'choice' && own.kind !== 'choice') {
      if (!(Number.isFinite(spec.min) && Number.isFinite(spec.max) && spec.min <= spec.max)) problems.push(`knob "${spec.name}": bounds [${spec.min}, ${spec.max}] are not a range`);
      else if (spec.min < own.min || spec.max > own.max) problems.push(`knob "${spec.name}": bounds [${spec.min}, ${spec.max}] are outside the segmenter's [${own.min}, ${own.max}]`);
    }
  }
  const tuned = new Set(manifest.knobSpace.map((s) => s.name));
  for (const [name, value] of Object.entries(manifest.fixed)) {
    if (!known.includes(name)) {
      problems.push(`unknown knob "${name}" (fixed): the ${segmenter.name} segmenter has no such knob; ${suggestName(name, known)}`);
      continue;
    }
    if (tuned.has(name)) problems.push(`knob "${name}" is both tuned and fixed`);
    const why = refusal(segmenter.knobs, { [name]: value });
    if (why) problems.push(`fixed knob "${name}" = ${JSON.stringify(value)}: ${why}`);
  }
  if (manifest.kind === 'static' && manifest.knobs) {
    for (const spec of manifest.knobSpace) {
      if (!(spec.name in manifest.knobs)) problems.push(`static knobs: no value for tuned knob "${spec.name}"`);
    }
    for (const [name, value] of Object.entries(manifest.knobs)) {
      if (!tuned.has(name)) {
        if (!(name in manifest.fixed)) problems.push(`static knobs: "${name}" is neither tuned nor fixed`);
        else if (manifest.fixed[name] !== value) problems.push(`static knobs: "${name}" = ${JSON.stringify(value)} but fixed says ${JSON.stringify(manifest.fixed[name])}`);
        continue;
      }
      if (!known.includes(name)) continue;
      const why = refusal(segmenter.knobs, { [name]: value });
      if (why) problems.push(`static knob "${name}" = ${JSON.stringify(value)}: ${why}`);
    }
  }
  if (manifest.kind === 'network' || manifest.kind === 'lookup') {
    // Without an expected layout, the policy's own version is fed to it (older layouts stay computable).
    const features = expected ?? (featureNamesOf(manifest.features.version) ? featureSpec(manifest.features.version) : undefined);
    if (!features || manifest.features.version !== features.version) {
      problems.push(`feature version: the policy was trained on "${manifest.features.version}", this samstar computes ${features ? `"${features.version}"` : FEATURE_VERSIONS.map((v) => `"${v}"`).join(', ')}`);
    }
    const a = manifest.features.names;
    const b = features?.names ?? FEATURE_NAMES;
    if (a.length !== b.length) problems.push(`features: the policy reads ${a.length} features, this samstar computes ${b.length}`);
    const missing = a.filter((n) => !b.includes(n));
    if (missing.length) problems.push(`features: ${missing.slice(0, 5).map((n) => `"${n}"`).join(', ')}${missing.length > 5 ? ', …' : ''} unknown to this samstar`);
    else {
      const firstDiff = a.findIndex((n, i) => n !== b[i]);
      if (firstDiff >= 0) problems.push(`features: order differs at position ${firstDiff} ("${a[firstDiff]}" in the policy, "${b[firstDiff]}" here)`);
    }
  }
  if (manifest.kind === 'network') {
    const a = manifest.features.names;
    const net = manifest.network!;
    if (net.observationSize !== a.length) problems.push(`network: ${net.observationSize} inputs but ${a.length} features listed`);
    if (net.actionSize !== manifest.knobSpace.length) problems.push(`network: ${net.actionSize} outputs but ${manifest.knobSpace.length} tuned knobs`);
  }
  if (manifest.adapt) {
    for (const name of manifest.adapt.knobs) if (!tuned.has(name)) problems.push(`adapt: knob "${name}" is not in the tuned knob space`);
  }
  return problems;
}

function refusal(space: KnobSpace, values: Record<string, unknown>): string | undefined {
  try {
    space.resolve(values, 'policy');
    return undefined;
  } catch (error) {
    return error instanceof SamstarError ? error.message.replace(/^policy: /, '') : String(error);
  }
}

/** policyMismatches as an error (CONFIG_INVALID) listing every problem; nothing when the policy fits. */
export function checkPolicy(dir: string, manifest: PolicyManifest, segmenter: { name: string; knobs: KnobSpace }, features?: FeatureSpec): void {
  const problems = policyMismatches(manifest, segmenter, features);
  if (problems.length === 0) return;
  throw new SamstarError('CONFIG_INVALID', `${join(dir, POLICY_FILE)} does not fit the ${segmenter.name} segmenter:\n  - ${problems.join('\n  - ')}`, {
    hint: 'train the policy again for this segmenter (samstar train), or use the samstar version and model it was trained with',
  });
}
