import type { CommandModule } from 'yargs';

interface RewardArgs {
  prediction: string;
  config: string;
  image?: string;
  truth?: string;
  json: boolean;
}

/** `samstar reward`: evaluate a reward config on a predicted label image. */
export const command: CommandModule<object, RewardArgs> = {
  command: 'reward <prediction>',
  describe: 'score a predicted label image with a reward config: every term and the total',
  builder: (y) =>
    y
      .positional('prediction', { type: 'string', demandOption: true, describe: 'predicted instance label image' })
      .option('config', { type: 'string', demandOption: true, describe: 'reward config (YAML), e.g. configs/rewards/nanoparticles.yaml' })
      .option('image', { type: 'string', describe: 'the image (needed by edge, contrast and coverage terms)' })
      .option('truth', { type: 'string', describe: 'ground truth: label image, or YOLO box file (.txt) (needed by label terms)' })
      .option('json', { type: 'boolean', default: false, describe: 'print {"total":…,"terms":{…}} as JSON' })
      .example('$0 reward --config configs/rewards/nanoparticles.yaml pred.png --image frame.png', 'physics-based reward'),
  handler: async (args) => {
    // Heavy modules load only when this command runs: the CLI starts fast for every other command.
    const { formatReward, rewardForFiles } = await import('../../../rewards/files.js');
    const result = await rewardForFiles(args.config, args.prediction, { image: args.image, truth: args.truth });
    process.stdout.write(`${args.json ? JSON.stringify(result) : formatReward(result)}\n`);
  },
};
