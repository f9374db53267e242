/** Policies: the artefact on disk, per-frame knob choice, and online adaptation. */
export {
  POLICY_FILE,
  POLICY_FORMAT,
  POLICY_FORMAT_VERSION,
  checkPolicy,
  policyId,
  policyMismatches,
  readPolicyManifest,
  writePolicyArtefact,
  type AdaptSettings,
  type PolicyKind,
  type PolicyManifest,
  type PolicyManifestInput,
  type PolicyProvenance,
} from './artefact.js';
export { Policy, writeLookupPolicy, writeNetworkPolicy, writeStaticPolicy, type KnobChoice, type LoadPolicyOptions, type PolicyWriteInput } from './policy.js';
export { DEFAULT_LOOKUP_FEATURES, fitLookup, lookupX, type LookupExample, type LookupTable } from './lookup.js';
export { ADAPT_DEFAULTS, OnlineAdapter, filterKnobNames, type AdaptOptions, type AdaptResult } from './adapt.js';
