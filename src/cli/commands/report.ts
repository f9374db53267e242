import { relative } from 'node:path';
import type { CommandModule } from 'yargs';

interface ReportArgs {
  path: string;
  out?: string;
  study?: string;
  pictures: boolean;
  'overlay-frames': number;
}

/** `samstar report PATH`: the HTML report (plots, tables, overlays) of a stored training run or comparison. */
export const command: CommandModule<object, ReportArgs> = {
  command: 'report <path>',
  describe: 'write report.html (+ plots/*.svg, *.png) for a stored run: a samstar train folder, a study.sqlite, or a samstar compare folder',
  builder: (y) =>
    y
      .positional('path', { type: 'string', demandOption: true, describe: 'run folder (study.sqlite + summary.json), study file, or compare folder' })
      .option('out', { type: 'string', describe: 'folder for report.html, plots/, overlays/ (default: next to the study)' })
      .option('study', { type: 'string', describe: 'which study, when the file holds several' })
      .option('pictures', { type: 'boolean', default: true, describe: 'size histograms and overlays (segments a few frames; --no-pictures to skip)' })
      .option('overlay-frames', { type: 'number', default: 3, describe: 'frames shown as default vs tuned overlays' })
      .example('$0 report runs/demo', 'report of a samstar train run: runs/demo/report.html')
      .example('$0 report runs/cmp', 'redraw the report of a comparison') as never,
  handler: async (args) => {
    // Heavy modules load only when this command runs: the CLI starts fast for every other command.
    const { reportFromPath } = await import('../../report/report.js');
    const result = await reportFromPath(args.path, {
      out: args.out,
      study: args.study,
      pictures: args.pictures,
      overlayFrames: args['overlay-frames'],
      command: `samstar ${process.argv.slice(2).join(' ')}`,
      log: (line) => process.stderr.write(`samstar: ${line}\n`),
    });
    const rel = (p: string): string => relative(process.cwd(), p) || p;
    process.stdout.write(`${rel(result.html)}\n`);
    process.stderr.write(`samstar: ${result.kind === 'compare' ? 'comparison' : 'study'} report (${result.summary.status}); numbers in ${rel(result.summaryPath)}, plots in ${rel(result.plots[0] ? result.plots[0].replace(/[^/\\]+$/, '') : 'plots/')}\n`);
  },
};
