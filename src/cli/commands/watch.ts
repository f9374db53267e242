import type { CommandModule } from 'yargs';
import { adaptOptions, adaptReward, buildAdapter, type AdaptArgs } from '../adapt-options.js';
import { imageChoice, imageOptions, type ImageArgs } from '../image-options.js';
import { remoteExecution, remoteOptions, type RemoteArgs } from '../remote-options.js';
import { runtimeChoice, runtimeOptions, type RuntimeArgs } from '../runtime-options.js';
import { SEGMENTER_NAMES } from '../../segmenters/registry.js';
import { SamstarError } from '../../util/errors.js';

interface WatchArgs extends RuntimeArgs, ImageArgs, RemoteArgs, AdaptArgs {
  dir: string;
  out: string;
  policy?: string;
  knobs?: string;
  segmenter?: string;
  encoder?: string;
  decoder?: string;
  existing: boolean;
  'stable-ms': number;
  'scan-ms': number;
  'max-frames'?: number;
  json: boolean;
}

/** `samstar watch DIR --policy P --out OUT [--adapt]`: segment each new image as it arrives. */
export const command: CommandModule<object, WatchArgs> = {
  command: 'watch <dir>',
  describe: 'segment each new image written into a folder, in arrival order, with knobs chosen per frame by a policy; Ctrl-C prints a summary',
  builder: (y) =>
    adaptOptions(remoteOptions(imageOptions(runtimeOptions(y))))
      .positional('dir', { type: 'string', demandOption: true, describe: 'the folder the microscope writes images into (not its sub-folders)' })
      .option('out', { type: 'string', demandOption: true, describe: 'output folder (NAME.labels.png, NAME.json, NAME.overlay.png, watch-summary.json)' })
      .option('policy', { type: 'string', describe: 'policy folder (OUT/policy of samstar train): chooses the knobs per frame' })
      .option('knobs', { type: 'string', describe: 'fixed knob values instead of a policy (JSON/YAML file or inline JSON)' })
      .option('segmenter', { type: 'string', choices: SEGMENTER_NAMES, describe: "segmenter (default: the policy's, else sam)" })
      .option('encoder', { type: 'string', describe: 'SAM / MobileSAM encoder ONNX (default: the bundled samstar-learned model, not SAM; SAMSTAR_MODEL=reference picks the hand-written one)' })
      .option('decoder', { type: 'string', describe: 'SAM / MobileSAM decoder ONNX (with --encoder)' })
      .option('existing', { type: 'boolean', default: false, describe: 'also segment the images already in the folder at start' })
      .option('stable-ms', { type: 'number', default: 500, describe: 'a file is read once its size and mtime held still this long (ms)' })
      .option('scan-ms', { type: 'number', default: 1000, describe: 'periodic folder scan, the fallback to change events (ms)' })
      .option('max-frames', { type: 'number', describe: 'stop after this many frames' })
      .option('json', { type: 'boolean', default: false, describe: 'one JSON object per frame on stdout, and the summary as JSON' })
      .example('$0 watch acquisition/ --policy runs/ppo/policy --out live/', 'segment frames as they arrive')
      .example('$0 watch acquisition/ --policy runs/demo/policy --out live/ --adapt', 'static knobs, refined per frame') as never,
  handler: async (args) => {
    // Heavy modules load only when this command runs.
    const { resolve } = await import('node:path');
    const { watchFolder, formatWatchLine, formatWatchSummary } = await import('../../deploy/watch.js');
    const { Policy } = await import('../../policy/policy.js');
    const { readKnobInput } = await import('../../segmenters/knob-input.js');
    const { loadSegmenter } = await import('../../segmenters/registry.js');
    const { SamSegmenter } = await import('../../segmenters/sam/segmenter.js');

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
    const segmenter = await loadSegmenter(segmenterName ?? 'sam', { encoder: args.encoder, decoder: args.decoder, ...runtimeChoice(args) });
    try {
      const policy = args.policy ? await Policy.load(args.policy, { segmenter }) : undefined;
      let knobs: Record<string, string | number> | undefined;
      if (args.knobs) {
        const input = await readKnobInput(args.knobs);
        knobs = segmenter.knobs.resolve(input.values, input.source);
      }
      // The live reward terms, and what --adapt maximises.
      const reward = await adaptReward(args, policy);
      // --redis: frames are segmented (and adapted) on samstar workers; the local segmenter gives the knobs and what the workers rebuild.
      const remote = remoteExecution(args);
      const used = remote ? await (await import('../../distributed/remote-segmenter.js')).RemoteSegmenter.start(remote, segmenter) : segmenter;
      const adapter = await buildAdapter(args, { segmenter, runsOn: used, policy, reward });

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
          segmenter: used,
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
          ...imageChoice(args),
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
        if (used !== segmenter) await used.dispose();
      }
    } finally {
      await segmenter.dispose();
    }
  },
};
