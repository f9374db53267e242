import type { CommandModule } from 'yargs';
import { runtimeChoice, runtimeOptions, type RuntimeArgs } from '../runtime-options.js';
import { createProgress } from '../../util/progress.js';

interface DemoArgs extends RuntimeArgs {
  out: string;
  frames: number;
  budget: number;
  seed: number;
}

export const command: CommandModule<object, DemoArgs> = {
  command: 'demo',
  describe: 'Generate synthetic particle frames, segment with default knobs, tune with CMA-ES on a physics reward, compare; writes OUT/report.html',
  builder: (y) =>
    runtimeOptions(y)
      .option('out', { type: 'string', default: 'out/demo', describe: 'output folder' })
      .option('frames', { type: 'number', default: 4, describe: 'synthetic frames' })
      .option('budget', { type: 'number', default: 60, describe: 'CMA-ES evaluations' })
      .option('seed', { type: 'number', default: 1, describe: 'seed of data and agent' }) as never,
  handler: async (args) => {
    const { runDemo } = await import('../../demo/demo.js');
    const { formatSummary } = await import('../../train/summary.js');
    const controller = new AbortController();
    const onSigint = (): void => controller.abort();
    process.once('SIGINT', onSigint);
    const progress = createProgress('tuning', args.budget, { fields: 'best {best}', initial: { best: '—' } });
    try {
      const result = await runDemo({
        out: args.out,
        frames: args.frames,
        budget: args.budget,
        seed: args.seed,
        ...runtimeChoice(args),
        signal: controller.signal,
        log: (line) => process.stderr.write(`${line}\n`),
        onEvaluation: ({ done, best }) => progress.update(done, { best: best ? best.total.toFixed(3) : '—' }),
      });
      progress.stop();
      const f = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : v.toFixed(3));
      process.stdout.write(`\n${formatSummary(result.summary)}\n`);
      process.stdout.write(
        `\nagainst the hidden labels (never seen by the tuning):\n` +
          `                 default   tuned\n` +
          `  mSA            ${f(result.scores.default.msa).padStart(7)}  ${f(result.scores.tuned.msa).padStart(6)}\n` +
          `  F1 @ IoU 0.5   ${f(result.scores.default.f1).padStart(7)}  ${f(result.scores.tuned.f1).padStart(6)}\n` +
          `  precision      ${f(result.scores.default.precision).padStart(7)}  ${f(result.scores.tuned.precision).padStart(6)}\n` +
          `  recall         ${f(result.scores.default.recall).padStart(7)}  ${f(result.scores.tuned.recall).padStart(6)}\n` +
          `\ndone in ${result.seconds.toFixed(0)} s. Look at:\n` +
          `  ${result.report}  (the report: default vs tuned side by side, convergence, knobs, size distributions; open it in a browser)\n` +
          `  ${result.comparisons[0]}  (default | tuned overlays; one per frame)\n` +
          `  ${result.out}/run/best-knobs.json  (use with: samstar segment --knobs)\n` +
          `  ${result.out}/run/summary.json, ${result.out}/demo.json, ${result.out}/run/study.sqlite\n`,
      );
    } finally {
      progress.stop();
      process.off('SIGINT', onSigint);
    }
  },
};
