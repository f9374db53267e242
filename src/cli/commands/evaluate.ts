import type { CommandModule } from 'yargs';

interface EvaluateArgs {
  pred: string;
  truth: string;
  json: boolean;
}

/** `samstar evaluate`: label-based scores of predicted label images against ground truth. */
export const command: CommandModule<object, EvaluateArgs> = {
  command: 'evaluate',
  describe: 'score predicted label images against ground truth (precision, recall, F1@0.5, mSA, mean IoU)',
  builder: (y) =>
    y
      .option('pred', { type: 'string', demandOption: true, describe: 'folder of predicted label images (NAME.png or NAME.labels.png)' })
      .option('truth', { type: 'string', demandOption: true, describe: 'folder of true label images or YOLO box files (NAME.txt)' })
      .option('json', { type: 'boolean', default: false, describe: 'print {"images":[…],"mean":{…}} as JSON' })
      .example('$0 evaluate --pred out/labels --truth data/labels --json', 'per-image and mean scores'),
  handler: async (args) => {
    // Heavy modules load only when this command runs: the CLI starts fast for every other command.
    const { evaluateDirectories } = await import('../../measure/evaluate-dirs.js');
    const { formatEvaluation } = await import('../../measure/format.js');
    const result = await evaluateDirectories(args.pred, args.truth);
    const { pred, truth } = result.unmatched;
    if (pred.length) process.stderr.write(`samstar: no ground truth for ${pred.length} prediction(s): ${pred.join(', ')}\n`);
    if (truth.length) process.stderr.write(`samstar: no prediction for ${truth.length} ground-truth file(s): ${truth.join(', ')}\n`);
    if (result.images.length === 0) process.stderr.write('samstar: no file names in common between the two folders\n');
    process.stdout.write(`${args.json ? JSON.stringify(result) : formatEvaluation(result)}\n`);
  },
};
