import type { CommandModule } from 'yargs';
import { SamstarError } from '../../util/errors.js';
import { createProgress } from '../../util/progress.js';

interface SegmentArgs {
  images: string[];
  out: string;
  segmenter?: string;
  prompts?: string;
  policy?: string;
  encoder?: string;
  decoder?: string;
  knobs?: string;
  threads: number;
}

export const command: CommandModule<object, SegmentArgs> = {
  command: 'segment <images..>',
  describe: 'Segment images with the automatic mask generator; writes NAME.labels.png, NAME.json, NAME.overlay.png',
  builder: (y) =>
    y
      .positional('images', { type: 'string', array: true, demandOption: true, describe: 'PNG, JPEG or TIFF files' })
      .option('out', { type: 'string', demandOption: true, describe: 'output folder' })
      .option('segmenter', { type: 'string', choices: ['sam', 'blobs'], describe: "SAM-style automatic mask generator on ONNX, or the LoG blob segmenter (no model); default sam (with --policy: the policy's)" })
      .option('prompts', { type: 'string', choices: ['grid', 'blobs', 'grid+blobs'], describe: 'SAM prompt strategy (sets the "prompts" knob)' })
      .option('encoder', { type: 'string', describe: 'SAM / MobileSAM encoder ONNX (default: the bundled samstar-learned model, not SAM; SAMSTAR_MODEL=reference picks the hand-written one)' })
      .option('decoder', { type: 'string', describe: 'SAM / MobileSAM decoder ONNX (with --encoder)' })
      .option('knobs', { type: 'string', describe: 'knob values: a JSON/YAML file or inline JSON (samstar knobs lists them)' })
      .option('policy', { type: 'string', describe: 'policy folder (OUT/policy of samstar train): chooses the knobs per frame; they are recorded in each NAME.json with the policy id' })
      .option('threads', { type: 'number', default: 1, describe: 'onnxruntime threads' }) as never,
  handler: async (args) => {
    // Heavy modules load only when this command runs: the CLI starts fast for every other command.
    const { segmentFiles } = await import('../../segment/batch.js');
    const { readKnobInput } = await import('../../segmenters/knob-input.js');
    const { loadSegmenter } = await import('../../segmenters/load-segmenter.js');
    const { SamSegmenter } = await import('../../segmenters/sam/segmenter.js');
    if (args.policy && args.knobs) {
      throw new SamstarError('ARGUMENT_INVALID', '--policy and --knobs are alternatives: a policy chooses the knobs itself', { hint: 'drop --knobs (the policy records its fixed knobs), or drop --policy' });
    }
    if (args.policy && args.prompts) {
      throw new SamstarError('ARGUMENT_INVALID', '--prompts sets a knob, and with --policy the policy sets the knobs', { hint: 'train a policy with the prompts knob fixed or tuned instead' });
    }
    let segmenterName = args.segmenter;
    if (args.policy && !segmenterName) {
      const { readPolicyManifest } = await import('../../policy/artefact.js');
      const { resolve } = await import('node:path');
      segmenterName = (await readPolicyManifest(resolve(args.policy))).segmenter;
    }
    segmenterName ??= 'sam';
    if (args.prompts && segmenterName !== 'sam') {
      throw new SamstarError('ARGUMENT_INVALID', `--prompts is a knob of the sam segmenter, not of "${segmenterName}"`);
    }
    const segmenter = await loadSegmenter(segmenterName, { encoder: args.encoder, decoder: args.decoder, intraOpThreads: args.threads });
    try {
      if (args.policy) {
        const { Policy } = await import('../../policy/policy.js');
        // Checked against this segmenter before any image is read: every mismatch in one error.
        const policy = await Policy.load(args.policy, { segmenter });
        const model = segmenter instanceof SamSegmenter ? segmenter.describeModel() : null;
        const progress = createProgress('segment', args.images.length, { enabled: args.images.length > 1, fields: '{name}' });
        const decisions = new Map<string, number>();
        const results = await segmentFiles({
          inputs: args.images,
          outDir: args.out,
          segmenter,
          knobsFor: (frame) => {
            const choice = policy.choose(frame, segmenter.knobs);
            decisions.set(frame.source, choice.ms);
            return choice.knobs;
          },
          provenance: { segmenter: segmenter.name, model, policy: policy.describe() },
          onItem: (done, r) => {
            progress.update(done, { name: r.input });
            if (!r.ok) process.stderr.write(`\nsamstar: skipped ${r.input}: ${r.error}\n`);
          },
        });
        progress.stop();
        for (const r of results) {
          if (r.ok) process.stdout.write(`${r.input}: ${r.count} masks in ${r.ms!.toFixed(0)} ms (policy ${policy.id}: decision ${(decisions.get(r.input) ?? 0).toFixed(2)} ms) → ${r.outputs!.json}\n`);
        }
        const failed = results.filter((r) => !r.ok);
        if (failed.length > 0) {
          throw new SamstarError('IMAGE_UNREADABLE', `${failed.length} of ${results.length} images failed: ${failed.map((f) => f.input).join(', ')}`, { hint: 'the outputs of the other images were written' });
        }
        return;
      }
      // Validate knobs before touching any image: a typo fails fast, naming the knob.
      const input = args.knobs ? await readKnobInput(args.knobs) : { values: {}, source: '--knobs' };
      if (args.prompts) input.values.prompts = args.prompts;
      const knobs = segmenter.knobs.resolve(input.values, input.source);
      const model = segmenter instanceof SamSegmenter ? segmenter.describeModel() : null;
      const progress = createProgress('segment', args.images.length, { enabled: args.images.length > 1, fields: '{name}' });
      const results = await segmentFiles({
        inputs: args.images,
        outDir: args.out,
        segmenter,
        knobsFor: () => knobs,
        provenance: { segmenter: segmenter.name, model },
        onItem: (done, r) => {
          progress.update(done, { name: r.input });
          if (!r.ok) process.stderr.write(`\nsamstar: skipped ${r.input}: ${r.error}\n`);
        },
      });
      progress.stop();
      for (const r of results) {
        if (r.ok) process.stdout.write(`${r.input}: ${r.count} masks in ${r.ms!.toFixed(0)} ms → ${r.outputs!.json}\n`);
      }
      const failed = results.filter((r) => !r.ok);
      if (failed.length > 0) {
        throw new SamstarError('IMAGE_UNREADABLE', `${failed.length} of ${results.length} images failed: ${failed.map((f) => f.input).join(', ')}`, {
          hint: 'the outputs of the other images were written',
        });
      }
    } finally {
      await segmenter.dispose();
    }
  },
};
