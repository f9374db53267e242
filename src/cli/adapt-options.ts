import type { Argv } from 'yargs';
import type { CompiledReward } from '../../rewards/index.js';
import type { OnlineAdapter } from '../policy/adapt.js';
import type { Policy } from '../policy/policy.js';
import type { Segmenter } from '../segmenters/types.js';
import { SamstarError } from '../util/errors.js';

/**
 * Online adaptation flags, written once for every command that deploys knobs per frame
 * (segment, watch): `--adapt`, the reward it maximises, and its bounds per frame.
 */
export interface AdaptArgs {
  adapt: boolean;
  reward?: string;
  'adapt-budget'?: number;
  'adapt-sigma'?: number;
  'adapt-ms'?: number;
  'adapt-propose'?: string;
}

export function adaptOptions<T>(y: Argv<T>): Argv<T & AdaptArgs> {
  return y
    .option('adapt', { type: 'boolean', default: false, describe: "online adaptation: a short CMA-ES per frame over the filter-stage knobs, warm-started from the policy's choice (and the previous frame's winner)" })
    .option('reward', { type: 'string', describe: "reward config (YAML) that --adapt maximises (watch also prints its terms per frame; default: the policy's training reward)" })
    .option('adapt-budget', { type: 'number', describe: "evaluations per frame for --adapt (default: the policy's, else 12)" })
    .option('adapt-sigma', { type: 'number', describe: "CMA-ES step size for --adapt, normalised units (default: the policy's, else 0.15)" })
    .option('adapt-ms', { type: 'number', describe: 'wall-time bound per frame for --adapt, ms: no evaluation starts after it (default: none)' })
    .option('adapt-propose', {
      type: 'string',
      describe:
        'propose-stage settings --adapt may also choose among per frame: a preset of the segmenter (blobs: `scales`, both polarities × σ 1–4 … 16–64 px), or a JSON list (or a JSON/YAML file of one) of knob objects that all set the same propose-stage knobs, e.g. \'[{"blob_polarity":"bright"},{"blob_polarity":"dark"}]\' (each re-runs the propose stage; the blob segmenter shares scale-space layers between σ ranges)',
    }) as Argv<T & AdaptArgs>;
}

/**
 * The candidates of --adapt-propose: the name of one of the segmenter's presets (`scales` for
 * blobs), an inline JSON list, or a JSON/YAML file of one.
 */
export async function proposeCandidates(text: string, segmenterName?: string): Promise<Record<string, string | number>[]> {
  const presets = segmenterName ? await segmenterPresets(segmenterName) : {};
  const preset = presets[text.trim()];
  if (preset) return preset.map((c) => ({ ...c }) as Record<string, string | number>);
  const { readInlineOrFile } = await import('../segmenters/knob-input.js');
  const names = Object.keys(presets);
  if (/^[a-z][a-z0-9-]*$/.test(text.trim()) && !(await isFile(text.trim()))) {
    throw new SamstarError('ARGUMENT_INVALID', `--adapt-propose ${text}: ${segmenterName ?? 'this segmenter'} has no preset of that name and there is no such file`, {
      hint: names.length ? `presets of ${segmenterName}: ${names.join(', ')}; or a JSON list of knob objects` : 'give a JSON list of knob objects, or a JSON/YAML file of one',
    });
  }
  const { parsed, source } = await readInlineOrFile(text, {
    option: '--adapt-propose',
    opener: '[',
    example: '--adapt-propose \'[{"blob_polarity":"bright"},{"blob_polarity":"dark"}]\'',
    code: 'ARGUMENT_INVALID',
  });
  const named = source === '--adapt-propose' ? source : `--adapt-propose ${source}`;
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((c) => c !== null && typeof c === 'object' && !Array.isArray(c) && Object.values(c).every((v) => typeof v === 'string' || typeof v === 'number'))) {
    throw new SamstarError('ARGUMENT_INVALID', `${named}: expected a non-empty list of knob objects (names to numbers or strings)`);
  }
  return parsed as Record<string, string | number>[];
}

async function segmenterPresets(name: string): Promise<Readonly<Record<string, readonly Record<string, unknown>[]>>> {
  const { SEGMENTERS } = await import('../segmenters/registry.js');
  return SEGMENTERS.find((s) => s.name === name)?.proposePresets ?? {};
}

async function isFile(path: string): Promise<boolean> {
  const { stat } = await import('node:fs/promises');
  return stat(path).then((s) => s.isFile(), () => false);
}

/** The reward of --reward, else the policy's training reward; undefined when neither exists. */
export async function adaptReward(args: Pick<AdaptArgs, 'reward'>, policy?: Policy): Promise<CompiledReward | undefined> {
  const { compileReward, loadRewardConfig } = await import('../../rewards/index.js');
  if (args.reward) return compileReward(await loadRewardConfig(args.reward));
  if (policy?.manifest.provenance.reward) return compileReward(policy.manifest.provenance.reward);
  return undefined;
}

/**
 * The online adapter the flags ask for (undefined without --adapt). It moves the policy's adapt
 * knobs (its tuned filter-stage knobs) within the policy's bounds; without a policy, every numeric
 * filter-stage knob of the segmenter. `runsOn` is what segments (a remote segmenter under --redis).
 */
export async function buildAdapter(args: AdaptArgs, options: { segmenter: Segmenter; runsOn?: Segmenter; policy?: Policy; reward?: CompiledReward }): Promise<OnlineAdapter | undefined> {
  if (!args.adapt) {
    for (const key of ['adapt-budget', 'adapt-sigma', 'adapt-ms', 'adapt-propose'] as const) {
      if (args[key] !== undefined) throw new SamstarError('ARGUMENT_INVALID', `--${key} sets online adaptation: add --adapt`);
    }
    return undefined;
  }
  const { OnlineAdapter, ADAPT_DEFAULTS, filterKnobNames } = await import('../policy/adapt.js');
  const { KnobSpace } = await import('../segmenters/knobs.js');
  const { policy, segmenter } = options;
  const reward = options.reward ?? (await adaptReward(args, policy));
  if (!reward) {
    throw new SamstarError('ARGUMENT_INVALID', '--adapt maximises a reward: give --reward CONFIG (the policy has none recorded)', { hint: 'e.g. --reward configs/rewards/nuclei.yaml' });
  }
  if (args['adapt-ms'] !== undefined && !(args['adapt-ms'] > 0)) throw new SamstarError('ARGUMENT_INVALID', `--adapt-ms must be a number of milliseconds > 0 (got ${args['adapt-ms']})`);
  const settings = policy?.manifest.adapt;
  const filter = new Set(filterKnobNames(segmenter.knobs));
  const names = settings?.knobs ?? (policy ? policy.space.names.filter((n) => filter.has(n)) : [...filter].filter((n) => segmenter.knobs.spec(n).kind !== 'choice'));
  if (names.length === 0) {
    throw new SamstarError('ARGUMENT_INVALID', `--adapt: the policy tunes no filter-stage knob (${policy!.space.names.join(', ')}); adaptation only moves filter-stage knobs`);
  }
  // The policy's tuned bounds for its knobs, the segmenter's for the rest.
  const specs = names.map((n) => (policy && policy.space.names.includes(n) ? policy.space.spec(n) : segmenter.knobs.spec(n)));
  const candidates = args['adapt-propose'] !== undefined ? await proposeCandidates(args['adapt-propose'], segmenter.name) : [];
  // With propose candidates the default budget also pays for them (a few evaluations each).
  const budget = args['adapt-budget'] ?? (settings?.budget ?? ADAPT_DEFAULTS.budget) + ADAPT_DEFAULTS.candidateBudget * candidates.length;
  return new OnlineAdapter({
    segmenter: options.runsOn ?? segmenter,
    reward,
    space: new KnobSpace(specs),
    budget,
    ...(candidates.length ? { proposeCandidates: candidates } : {}),
    sigma: args['adapt-sigma'] ?? settings?.sigma ?? ADAPT_DEFAULTS.sigma,
    popsize: settings?.popsize ?? ADAPT_DEFAULTS.popsize,
    ...(args['adapt-ms'] !== undefined ? { timeBudgetMs: args['adapt-ms'] } : {}),
  });
}
