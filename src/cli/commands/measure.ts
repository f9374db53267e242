import type { CommandModule } from 'yargs';

interface MeasureArgs {
  labels: string;
  image?: string;
  json: boolean;
  'ring-width': number;
  foreground: 'auto' | 'bright' | 'dark';
}

/** `samstar measure`: per-instance and frame-level measurements of a label image. */
export const command: CommandModule<object, MeasureArgs> = {
  command: 'measure <labels>',
  describe: 'measure the instances of a label image (scikit-image regionprops names)',
  builder: (y) =>
    y
      .positional('labels', { type: 'string', demandOption: true, describe: 'instance label image (16-bit PNG, 0 = background)' })
      .option('image', { type: 'string', describe: 'the image, for intensity, contrast, edge and foreground measurements' })
      .option('json', { type: 'boolean', default: false, describe: 'print {"instances":[…],"frame":{…}} as JSON' })
      .option('ring-width', { type: 'number', default: 2, describe: 'width in px of the ring outside each instance' })
      .option('foreground', { choices: ['auto', 'bright', 'dark'] as const, default: 'auto' as const, describe: 'which side of the Otsu threshold is foreground' })
      .example('$0 measure labels.png --image frame.png --json', 'measurements as JSON'),
  handler: async (args) => {
    // Heavy modules load only when this command runs: the CLI starts fast for every other command.
    const { formatMeasurements } = await import('../../measure/format.js');
    const { measureLabelFile } = await import('../../measure/files.js');
    const { measurementsToJson } = await import('../../measure/json.js');
    const m = await measureLabelFile(args.labels, { image: args.image, ringWidth: args['ring-width'], foreground: args.foreground });
    process.stdout.write(`${args.json ? JSON.stringify(measurementsToJson(m)) : formatMeasurements(m)}\n`);
  },
};
