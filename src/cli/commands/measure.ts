import type { CommandModule } from 'yargs';
import { imageChoice, imageOptions, type ImageArgs } from '../image-options.js';

interface MeasureArgs extends ImageArgs {
  labels: string;
  image?: string;
  json: boolean;
  csv?: string;
  'ring-width': number;
  foreground: 'auto' | 'bright' | 'dark';
}

/** `samstar measure`: per-instance and frame-level measurements of a label image. */
export const command: CommandModule<object, MeasureArgs> = {
  command: 'measure <labels>',
  describe: 'measure the instances of a label image (scikit-image regionprops names)',
  builder: (y) =>
    imageOptions(y)
      .positional('labels', { type: 'string', demandOption: true, describe: 'instance label image (16-bit PNG, 0 = background)' })
      .option('image', { type: 'string', describe: 'the image, for intensity, contrast, edge and foreground measurements (a frame of a stack: stack.tif#t0003)' })
      .option('json', { type: 'boolean', default: false, describe: 'print {"instances":[…],"frame":{…}} as JSON' })
      .option('csv', { type: 'string', describe: 'write FILE (one row per instance) and FILE.frames.csv, in µm where the pixel size is known' })
      .option('ring-width', { type: 'number', default: 2, describe: 'width in px of the ring outside each instance' })
      .option('foreground', { choices: ['auto', 'bright', 'dark'] as const, default: 'auto' as const, describe: 'which side of the Otsu threshold is foreground' })
      .example('$0 measure labels.png --image frame.png --json', 'measurements as JSON')
      .example('$0 measure labels.png --pixel-size 0.65um --csv cells.csv', 'a table in pixels and µm') as never,
  handler: async (args) => {
    // Heavy modules load only when this command runs: the CLI starts fast for every other command.
    const { formatMeasurements } = await import('../../measure/format.js');
    const { measureLabelFile } = await import('../../measure/files.js');
    const { measurementsToJson } = await import('../../measure/json.js');
    const m = await measureLabelFile(args.labels, { image: args.image, ringWidth: args['ring-width'], foreground: args.foreground, ...imageChoice(args) });
    if (args.csv !== undefined) {
      const { RunTables } = await import('../../segment/tables.js');
      const tables = new RunTables({ csv: args.csv });
      tables.addMeasured({ frame: args.image ?? args.labels, measurements: m, ...(m.pixelSizeNm !== undefined ? { pixelSizeNm: m.pixelSizeNm } : {}) });
      for (const path of await tables.write()) process.stderr.write(`wrote ${path}\n`);
    }
    process.stdout.write(`${args.json ? JSON.stringify(measurementsToJson(m)) : formatMeasurements(m)}\n`);
  },
};
