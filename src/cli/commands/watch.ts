import type { CommandModule } from 'yargs';
import { SamstarError } from '../../util/errors.js';

interface WatchArgs {
  dir: string;
  out: string;
  policy?: string;
  knobs?: string;
  adapt: boolean;
  reward?: string;
  segmenter?: string;
  encoder?: string;
  decoder?: string;
  threads: number;
  existing: boolean;
  'stable-ms': number;
  'scan-ms': number;
  'max-frames'?: number;
  'adapt-budget'?: number;
  'adapt-sigma'?: number;
  json: boolean;
}

/** `samstar watch DIR --policy P --out OUT [--adapt]`: segment each new image as it arrives. */
export const command: CommandModule<object, WatchArgs> = {
  command: 'watch <dir>',
  describe: 'segment each new image written into a folder, in arrival order, with knobs chosen per frame by a policy; Ctrl-C prints a summary',
  builder: (y) =>
    y
      .positional('dir', { type: 'string', demandOption: true, describe: 'the folder the microscope writes images into (not its sub-folders)' })
      .option('out', { type: 'string', demandOption: true, describe: 'output folder (NAME.labels.png, NAME.json, NAME.overlay.png, watch-summary.json)' })
      .option('policy', { type: 'string', describe: 'policy folder (OUT/policy of samstar train): chooses the knobs per frame' })
      .option('knobs', { type: 'string', describe: 'fixed knob values instead of a policy (JSON/YAML file or inline JSON)' })
      .option('adapt', { type: 'boolean', default: false, describe: "online adaptation: a short CMA-ES per frame over the filter-stage knobs, warm-started from the previous frame's" })
      .option('reward', { type: 'string', describe: "reward config (YAML) for the live reward terms and --adapt (default: the policy's training reward)" })
      .option('segmenter', { type: 'string', choices: ['sam', 'blobs'], describe: "segmenter (default: the policy's, else sam)" })
      .option('encoder', { type: 'string', describe: 'SAM / MobileSAM encoder ONNX (default: the bundled samstar-learned model, not SAM; SAMSTAR_MODEL=reference picks the hand-written one)' })
      .option('decoder', { type: 'string', describe: 'SAM / MobileSAM decoder ONNX (with --encoder)' })
      .option('threads', { type: 'number', default: 1, describe: 'onnxruntime threads' })
      .option('existing', { type: 'boolean', default: false, describe: 'also segment the images already in the folder at start' })
      .option('stable-ms', { type: 'number', default: 500, describe: 'a file is read once its size and mtime held still this long (ms)' })
      .option('scan-ms', { type: 'number', default: 1000, describe: 'periodic folder scan, the fallback to change events (ms)' })
      .option('max-frames', { type: 'number', describe: 'stop after this many frames' })
      .option('adapt-budget', { type: 'number', describe: 'evaluations per frame for --adapt (default: the policy\'s, else 12)' })
      .option('adapt-sigma', { type: 'number', describe: 'CMA-ES step size for --adapt, normalised units (default: the policy\'s, else 0.15)' })
      .option('json', { type: 'boolean', default: false, describe: 'one JSON object per frame on stdout, and the summary as JSON' })
      .example('$0 watch acquisition/ --policy runs/ppo/policy --out live/', 'segment frames as they arrive')
      .example('$0 watch acquisition/ --policy runs/demo/policy --out live/ --adapt', 'static knobs, refined per frame') as never,
  handler: async (args) => {
    // Heavy modules load only when this command runs.
    const { resolve } = await import('node:path');
    const { compileReward, loadRewardConfig } = await import('../../../rewards/index.js');
    const { watchFolder, formatWatchLine, formatWatchSummary } = await import('../../deploy/watch.js');
    const { Policy } = await import('../../policy/policy.js');
    const { OnlineAdapter, ADAPT_DEFAULTS, filterKnobNames } = await import('../../policy/adapt.js');
    const { readKnobInput } = await import('../../segmenters/knob-input.js');
    const { loadSegmenter } = await import('../../segmenters/load-segmenter.js');
    const { SamSegmenter } = await import('../../segmenters/sam/segmenter.js');
    const { KnobSpace } = await import('../../segmenters/knobs.js');

    if (args.policy && args.knobs) {
      throw new SamstarError('ARGUMENT_INVALID', '--policy and --knobs are alternatives: a policy chooses the knobs itself');
    }
    for (const key of ['stable-ms', 'scan-ms'] as const) {
      if (!(Number.isFinite(args[key]) && args[key] >= 0)) throw new SamstarError('ARGUMENT_INVALID', `--${key} must be a number of milliseconds ≥ 0 (got ${args[key]})`);
    }
    if (args['max-frames'] !== undefined && !(Number.isInteger(args['max-frames']) && args['max-frames'] >= 1)) {
      throw new SamstarError('ARGUMENT_INVALID', `--max-frames must be a whole number ≥ 1 (got ${args['max-frames']})`);
    }
    // The policy's segmenter unless one is named (and then they must agree: checked on load).
    let segmenterName = args.segmenter;
    if (args.policy && !segmenterName) {
      const { readPolicyManifest } = await import('../../policy/artefact.js');
      segmenterName = (await readPolicyManifest(resolve(args.policy))).segmenter;
    }
    const segmenter = await loadSegmenter(segmenterName ?? 'sam', { encoder: args.encoder, decoder: args.decoder, intraOpThreads: args.threads });
    try {
      const policy = args.policy ? await Policy.load(args.policy, { segmenter }) : undefined;
      let knobs: Record<string, string | number> | undefined;
      if (args.knobs) {
        const input = await readKnobInput(args.knobs);
        knobs = segmenter.knobs.resolve(input.values, input.source);
      }
      let rewardConfig: unknown;
      if (args.reward) rewardConfig = await loadRewardConfig(args.reward);
      else if (policy?.manifest.provenance.reward) rewardConfig = policy.manifest.provenance.reward;
      const reward = rewardConfig === undefined ? undefined : compileReward(rewardConfig);
      let adapter: InstanceType<typeof OnlineAdapter> | undefined;
      if (args.adapt) {
        if (!reward) {
          throw new SamstarError('ARGUMENT_INVALID', '--adapt maximises a reward: give --reward CONFIG (the policy has none recorded)', { hint: 'e.g. --reward configs/rewards/nuclei.yaml' });
        }
        const settings = policy?.manifest.adapt;
        const filter = new Set(filterKnobNames(segmenter.knobs));
        const names = settings?.knobs ?? (policy ? policy.space.names.filter((n) => filter.has(n)) : [...filter].filter((n) => segmenter.knobs.spec(n).kind !== 'choice'));
        if (names.length === 0) {
          throw new SamstarError('ARGUMENT_INVALID', `--adapt: the policy tunes no filter-stage knob (${policy!.space.names.join(', ')}); adaptation only moves filter-stage knobs`);
        }
        // The policy's tuned bounds for its knobs, the segmenter's for the rest.
        const specs = names.map((n) => (policy && policy.space.names.includes(n) ? policy.space.spec(n) : segmenter.knobs.spec(n)));
        adapter = new OnlineAdapter({
          segmenter,
          reward,
          space: new KnobSpace(specs),
          budget: args['adapt-budget'] ?? settings?.budget ?? ADAPT_DEFAULTS.budget,
          sigma: args['adapt-sigma'] ?? settings?.sigma ?? ADAPT_DEFAULTS.sigma,
          popsize: settings?.popsize ?? ADAPT_DEFAULTS.popsize,
        });
      }

      const controller = new AbortController();
      let interrupts = 0;
      const onSigint = (): void => {
        interrupts++;
        if (interrupts === 1) {
          process.stderr.write('\nsamstar: stopping after the frame in flight (Ctrl-C again to quit at once)\n');
          controller.abort();
        } else {
          process.exit(130);
        }
      };
      process.on('SIGINT', onSigint);
      process.on('SIGTERM', onSigint);
      try {
        const model = segmenter instanceof SamSegmenter ? segmenter.describeModel() : null;
        const summary = await watchFolder({
          dir: args.dir,
          out: args.out,
          segmenter,
          policy,
          knobs,
          reward,
          adapter,
          signal: controller.signal,
          stableMs: args['stable-ms'],
          scanMs: args['scan-ms'],
          existing: args.existing,
          maxFrames: args['max-frames'],
          provenance: { segmenter: segmenter.name, model },
          onReady: () => {
            const what = policy ? `policy ${policy.id} (${policy.kind}${adapter ? ' + online adaptation' : ''})` : adapter ? 'online adaptation' : 'fixed knobs';
            process.stderr.write(`samstar: watching ${resolve(args.dir)} (${what}); Ctrl-C to stop\n`);
          },
          onFrame: (r) => process.stdout.write(args.json ? `${JSON.stringify({ ...r, outputs: r.outputs.json })}\n` : `${formatWatchLine(r)}\n`),
          onFailure: (f) => process.stderr.write(`samstar: skipped ${f.file}: ${f.error.split('\n').join('\n  ')}\n`),
        });
        process.stdout.write(args.json ? `${JSON.stringify(summary)}\n` : `${formatWatchSummary(summary)}\n`);
      } finally {
        process.off('SIGINT', onSigint);
        process.off('SIGTERM', onSigint);
      }
    } finally {
      await segmenter.dispose();
    }
  },
};
