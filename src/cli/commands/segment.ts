import type { CommandModule } from 'yargs';
import { adaptOptions, buildAdapter, type AdaptArgs } from '../adapt-options.js';
import { imageChoice, imageOptions, noMasksHint, type ImageArgs } from '../image-options.js';
import { runtimeChoice, runtimeOptions, type RuntimeArgs } from '../runtime-options.js';
import { SEGMENTER_NAMES } from '../../segmenters/registry.js';
import type { Frame } from '../../image/frame.js';
import type { KnobValues } from '../../segmenters/knobs.js';
import { SamstarError } from '../../util/errors.js';
import { createProgress } from '../../util/progress.js';

interface SegmentArgs extends RuntimeArgs, ImageArgs, AdaptArgs {
  csv?: string;
  coco?: string;
  images: string[];
  out: string;
  segmenter?: string;
  prompts?: string;
  policy?: string;
  encoder?: string;
  decoder?: string;
  knobs?: string;
  pick?: string;
}

export const command: CommandModule<object, SegmentArgs> = {
  command: 'segment <images..>',
  describe: 'Segment images with the automatic mask generator; writes NAME.labels.png, NAME.json, NAME.overlay.png',
  builder: (y) =>
    adaptOptions(imageOptions(runtimeOptions(y)))
      .positional('images', { type: 'string', array: true, demandOption: true, describe: 'PNG, JPEG, TIFF or MRC files; every frame of a stack is segmented (NAME-t0003.*)' })
      .option('out', { type: 'string', demandOption: true, describe: 'output folder' })
      .option('csv', { type: 'string', describe: 'write a measurement table: FILE (one row per instance) and FILE.frames.csv (one per frame), in µm where the pixel size is known' })
      .option('coco', { type: 'string', describe: 'write one COCO instances JSON for the whole run (RLE masks, bbox, area, score)' })
      .option('segmenter', { type: 'string', choices: SEGMENTER_NAMES, describe: "sam (automatic mask generator on ONNX) or blobs (LoG blob segmenter, no model); default sam (with --policy: the policy's)" })
      .option('prompts', { type: 'string', choices: ['grid', 'blobs', 'grid+blobs'], describe: 'SAM prompt strategy (sets the "prompts" knob)' })
      .option('encoder', { type: 'string', describe: 'SAM / MobileSAM encoder ONNX (default: the bundled samstar-learned model, not SAM; SAMSTAR_MODEL=reference picks the hand-written one)' })
      .option('decoder', { type: 'string', describe: 'SAM / MobileSAM decoder ONNX (with --encoder)' })
      .option('knobs', { type: 'string', describe: 'knob values: a JSON/YAML file or inline JSON (samstar knobs lists them), or a pareto.json with --pick' })
      .option('pick', { type: 'string', describe: "with --knobs OUT/pareto.json: the point of the front, N (its position, from 0), knee, or weights 'w1,w2'" })
      .option('policy', { type: 'string', describe: 'policy folder (OUT/policy of samstar train): chooses the knobs per frame; they are recorded in each NAME.json with the policy id' })
      .example('$0 segment new/*.tif --policy runs/lookup/policy --adapt --adapt-ms 500 --out seg', 'knobs per frame from a policy, refined on each frame by its reward; NAME.json records the search') as never,
  handler: async (args) => {
    // Heavy modules load only when this command runs: the CLI starts fast for every other command.
    const { segmentFiles } = await import('../../segment/batch.js');
    const { readKnobInput } = await import('../../segmenters/knob-input.js');
    const { loadSegmenter } = await import('../../segmenters/registry.js');
    const { SamSegmenter } = await import('../../segmenters/sam/segmenter.js');
    if (args.policy && args.knobs) {
      throw new SamstarError('ARGUMENT_INVALID', '--policy and --knobs are alternatives: a policy chooses the knobs itself', { hint: 'drop --knobs (the policy records its fixed knobs), or drop --policy' });
    }
    if (args.policy && args.pick) {
      throw new SamstarError('ARGUMENT_INVALID', '--pick chooses a point of a pareto.json given with --knobs, and --policy chooses the knobs itself', { hint: 'drop --policy, or drop --pick' });
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
    if (args.pick !== undefined && args.knobs && !args.knobs.trim().startsWith('{') && !segmenterName) {
      // A pareto.json names the segmenter its knobs are for.
      const { readParetoFile } = await import('../../train/pareto-file.js');
      segmenterName = (await readParetoFile(args.knobs)).segmenter;
    }
    segmenterName ??= 'sam';
    if (args.prompts && segmenterName !== 'sam') {
      throw new SamstarError('ARGUMENT_INVALID', `--prompts is a knob of the sam segmenter, not of "${segmenterName}"`);
    }
    const images = imageChoice(args);
    const { RunTables } = await import('../../segment/tables.js');
    const tables = new RunTables({ csv: args.csv, coco: args.coco });
    const segmenter = await loadSegmenter(segmenterName, { encoder: args.encoder, decoder: args.decoder, ...runtimeChoice(args) });
    try {
      const policy = args.policy ? await (await import('../../policy/policy.js')).Policy.load(args.policy, { segmenter }) : undefined;
      // --adapt: each frame's knobs (the policy's choice, or --knobs) refined by a short search on the frame's reward.
      const adapter = await buildAdapter(args, { segmenter, policy });
      const segmentFrame = adapter
        ? async (frame: Parameters<typeof adapter.adapt>[0], knobs: Parameters<typeof adapter.adapt>[1]) => {
            const r = await adapter.adapt(frame, knobs, { id: frame.source });
            return {
              segmentation: r.segmentation,
              record: { adapt: { knobs: r.tuned, total: r.total, start: r.baseTotal, evaluations: r.evaluations, ms: r.ms, timedOut: r.timedOut, trace: r.trace } },
            };
          }
        : undefined;
      // The knobs per frame: the policy's choice (checked against this segmenter by Policy.load above,
      // before any image is read), or one setting validated now so that a typo fails fast, naming the knob.
      const provenance: Record<string, unknown> = { segmenter: segmenter.name, model: segmenter instanceof SamSegmenter ? segmenter.describeModel() : null };
      let knobsFor: (frame: Frame) => KnobValues;
      let decisionNote = (_input: string): string => '';
      if (policy) {
        const decisions = new Map<string, number>();
        knobsFor = (frame) => {
          const choice = policy.choose(frame, segmenter.knobs);
          decisions.set(frame.source, choice.ms);
          return choice.knobs;
        };
        decisionNote = (input) => ` (policy ${policy.id}: decision ${(decisions.get(input) ?? 0).toFixed(2)} ms)`;
        provenance.policy = policy.describe();
      } else {
        const { knobInputOrPick } = await import('../../train/pareto-file.js');
        const input = (await knobInputOrPick(args.knobs, args.pick)) ?? (args.knobs ? await readKnobInput(args.knobs) : { values: {}, source: '--knobs' });
        if (args.prompts) input.values.prompts = args.prompts;
        const knobs = segmenter.knobs.resolve(input.values, input.source);
        knobsFor = () => knobs;
      }
      const progress = createProgress('segment', args.images.length, { enabled: args.images.length > 1, fields: '{name}' });
      const results = await segmentFiles({
        inputs: args.images,
        outDir: args.out,
        segmenter,
        ...images,
        tables,
        knobsFor,
        ...(segmentFrame ? { segmentFrame } : {}),
        provenance,
        onItem: (done, r) => {
          progress.update(done, { name: r.input });
          if (!r.ok) process.stderr.write(`\nsamstar: skipped ${r.input}: ${r.error}\n`);
        },
      });
      progress.stop();
      for (const r of results) {
        if (r.ok) process.stdout.write(`${r.input}: ${r.count} masks in ${r.ms!.toFixed(0)} ms${decisionNote(r.input)} → ${r.outputs!.json}${r.outputs!.labels ? '' : ' (no label PNG: more instances than 16 bits hold; the masks are in the JSON)'}\n`);
      }
      await finishRun(results, tables, segmenter.name);
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

/** The run's tables, and a hint when nothing at all was found (the first thing a new user meets). */
async function finishRun(results: readonly { ok: boolean; count?: number }[], tables: { enabled: boolean; write(): Promise<string[]> }, segmenter: string): Promise<void> {
  if (tables.enabled) for (const path of await tables.write()) process.stdout.write(`wrote ${path}\n`);
  const ok = results.filter((r) => r.ok);
  if (ok.length > 0 && ok.every((r) => r.count === 0)) process.stderr.write(noMasksHint(segmenter));
}
