import { join, relative, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { remoteExecution, remoteOptions, type RemoteArgs } from '../remote-options.js';
import { runtimeOptions, withRuntime, type RuntimeArgs } from '../runtime-options.js';
import { SamstarError } from '../../util/errors.js';

interface CompareArgs extends RuntimeArgs, RemoteArgs {
  config: string;
  agents: string;
  segmenters?: string;
  seeds: number;
  seed?: number;
  budget?: number;
  frames?: string[];
  labels?: string;
  out?: string;
  resume: boolean;
  workers: number;
  report: boolean;
  'overlay-frames': number;
  json: boolean;
  progress: boolean;
  'init-policy'?: string;
}

/** `samstar compare`: every agent × seed on one task, then summary.json, summary.csv and report.html. */
export const command: CommandModule<object, CompareArgs> = {
  command: 'compare',
  describe: 'run several agents over several seeds on one task; writes OUT/summary.json, OUT/summary.csv, OUT/report.html and a study per run',
  builder: (y) =>
    remoteOptions(runtimeOptions(y))
      .option('config', { type: 'string', demandOption: true, describe: 'task config (YAML); its agent, seed and budget are the defaults' })
      .option('agents', { type: 'string', default: 'cmaes,bo,grid,random', describe: 'agents to compare, comma-separated: black-box cmaes, bo, grid, random; policy ppo, reinforce (a contextual policy per run)' })
      .option('segmenters', {
        type: 'string',
        alias: 'segmenter',
        describe: "segmenters to compare on the task's frames, comma-separated (e.g. sam,blobs): segmenter × agent × seed, columns SEGMENTER+AGENT; each tunes its own knobs (the task's for its own segmenter, the default tuned knobs for the others); default: the task's segmenter",
      })
      .option('seeds', { type: 'number', default: 3, describe: 'seeds per agent (the task seed, +1, +2, …)' })
      .option('seed', { type: 'number', describe: 'first seed (overrides the task seed)' })
      .option('budget', { type: 'number', describe: 'evaluations per run (overrides the task budget); a policy agent spends the same frames: budget × S − F visits of one frame, then F to score its final policy (S frames per evaluation, F frames)' })
      .option('frames', { type: 'string', array: true, describe: 'frames: a glob (quote it), a folder, or files (overrides data.frames)' })
      .option('labels', { type: 'string', describe: 'folder of label images (overrides data.labels)' })
      .option('out', { type: 'string', describe: 'output folder (default: runs/<task name>-compare)' })
      .option('resume', { type: 'boolean', default: false, describe: 'continue the comparison in --out (finished runs are replayed, not re-run)' })
      .option('workers', { type: 'number', default: 1, describe: 'worker threads for frame-parallel evaluation' })
      .option('report', { type: 'boolean', default: true, describe: 'write report.html (--no-report to skip)' })
      .option('overlay-frames', { type: 'number', default: 3, describe: 'frames shown as default vs tuned overlays in the report' })
      .option('json', { type: 'boolean', default: false, describe: 'print the summary as JSON' })
      .option('progress', { type: 'boolean', default: true, describe: 'progress bars on stderr (--no-progress to hide)' })
      .option('init-policy', {
        type: 'string',
        describe: 'ppo/reinforce runs: start every policy at the knobs of a static policy folder (e.g. OUT/policy of a samstar train cmaes run on the same task); black-box agents ignore it; --resume needs the same folder',
      })
      .example('$0 compare --config configs/tasks/synthetic-nuclei.yaml --agents cmaes,bo,grid,random --seeds 3 --budget 40 --out runs/cmp', 'four agents, three seeds each')
      .example('$0 compare --config configs/tasks/synthetic-nuclei.yaml --agents cmaes,ppo --seeds 5 --budget 100 --out runs/cmp-ppo', 'best static knobs vs a contextual PPO policy, on the same frames')
      .example('$0 compare --config configs/tasks/synthetic-nuclei.yaml --segmenters sam,blobs --agents cmaes --out runs/cmp-segmenters', 'the model + CMA-ES against LoG blobs + CMA-ES, side by side')
      .example('$0 compare --config configs/tasks/synthetic-nuclei.yaml --agents cmaes,ppo --budget 100 --init-policy runs/nuclei/policy --out runs/cmp-warm', 'the same, with every PPO run warm-started at a cmaes run\'s static policy') as never,
  handler: async (args) => {
    // Heavy modules load only when this command runs: the CLI starts fast for every other command.
    const { loadTaskConfig } = await import('../../config/task.js');
    const { resolveTask } = await import('../../train/task.js');
    const { seedList } = await import('../../compare/compare.js');
    const { compareArms } = await import('../../compare/arms.js');
    const { compareWithReport } = await import('../../report/compare-report.js');
    const { CompareProgress } = await import('../../compare/progress.js');
    const { formatCompareSummary } = await import('../../compare/format.js');
    const { agentKind, framesPerEvaluationOf, policyVisitBudget } = await import('../../compare/summary.js');
    if (args.budget !== undefined && (!Number.isInteger(args.budget) || args.budget < 1)) {
      throw new SamstarError('ARGUMENT_INVALID', `--budget must be a whole number ≥ 1 (got ${args.budget})`);
    }
    if (args.seed !== undefined && (!Number.isInteger(args.seed) || args.seed < 0)) {
      throw new SamstarError('ARGUMENT_INVALID', `--seed must be a whole number ≥ 0 (got ${args.seed})`);
    }
    const agents = args.agents.split(',').map((a) => a.trim()).filter(Boolean);
    const frames = args.frames === undefined ? undefined : args.frames.length === 1 ? args.frames[0] : args.frames;
    const config = await loadTaskConfig(args.config, { frames, labels: args.labels, budget: args.budget, seed: args.seed });
    const task = withRuntime(await resolveTask(config), args);
    const seeds = seedList(task.seed, args.seeds);
    const segmenters = args.segmenters === undefined ? undefined : args.segmenters.split(',').map((s) => s.trim()).filter(Boolean);
    // The summary's columns: the agents, or SEGMENTER+AGENT when several segmenters are compared.
    const columns = compareArms(task, agents, segmenters).map((arm) => arm.label);
    const out = resolve(args.out ?? join('runs', `${task.name}-compare`));
    const budget = task.budget;
    // Policy agents (ppo, reinforce) visit one frame per evaluation: budget × S − F visits and a final evaluation on all F frames
    // cost what budget evaluations of S frames do.
    const framesPerEvaluation = framesPerEvaluationOf(task);
    const visits = policyVisitBudget(budget, framesPerEvaluation, task.data.frames.length);
    const policyAgents = columns.filter((a) => agentKind(a) === 'policy');
    const perAgent = <T,>(value: (agent: string) => T): Record<string, T> => Object.fromEntries(policyAgents.map((a) => [a, value(a)]));

    const controller = new AbortController();
    let interrupts = 0;
    const progress = new CompareProgress(columns, seeds.length, budget, {
      enabled: args.progress,
      runBudget: perAgent(() => visits),
      weight: perAgent(() => 1 / framesPerEvaluation),
      unit: perAgent(() => 'visits'),
    });
    const onSigint = (): void => {
      interrupts++;
      if (interrupts === 1) {
        progress.log('samstar: stopping after the evaluation in flight; the summary and report will be marked partial (Ctrl-C again to quit at once; the studies stay valid)');
        controller.abort();
      } else {
        progress.stop();
        process.exit(130);
      }
    };
    process.on('SIGINT', onSigint);
    const rel = (p: string): string => relative(process.cwd(), p) || p;
    process.stderr.write(
      `samstar: comparing ${columns.join(', ')} × seeds ${seeds.join(', ')} on ${task.data.frames.length} frame(s), tuning ${task.knobSpace.map((s) => s.name).join(', ')}, ${budget} evaluations per run` +
        (policyAgents.length
          ? ` (${policyAgents.join(', ')}: ${visits} visits of one frame per run + its final policy on all ${task.data.frames.length} frames, the same ${budget * framesPerEvaluation} frame-evaluations` +
            `${args['init-policy'] !== undefined ? `; starting at the static policy in ${args['init-policy']}` : ''})`
          : '') +
        ` → ${rel(out)}\n`,
    );
    try {
      const result = await compareWithReport({
        task,
        agents,
        ...(segmenters ? { segmenters } : {}),
        seeds,
        budget,
        out,
        resume: args.resume,
        initPolicy: args['init-policy'],
        signal: controller.signal,
        workers: args.workers,
        remote: remoteExecution(args, config.execution),
        report: args.report,
        overlayFrames: args['overlay-frames'],
        command: `samstar ${process.argv.slice(2).join(' ')}`,
        log: (line) => progress.log(`samstar: ${line}`),
        onRunStart: ({ agent, seed, index, total, resumed }) => {
          progress.runStart();
          if (!process.stderr.isTTY || !args.progress) process.stderr.write(`samstar: run ${index + 1}/${total}: ${agent}, seed ${seed}${resumed ? ' (resuming)' : ''}\n`);
        },
        onEvaluation: ({ agent, seed, done, replayed, best, evaluation }) => {
          if (!replayed && Number.isNaN(evaluation.total)) progress.log(`samstar: ${agent} seed ${seed}: evaluation #${evaluation.index} gave a NaN reward${evaluation.error ? `: ${evaluation.error.split('\n')[0]}` : ''}`);
          progress.evaluation(agent, seed, done, replayed, best ? best.total : null);
        },
        onRunEnd: ({ agent, seed, evaluations, status, budget: runBudget }) => {
          if (status !== 'interrupted') progress.runEnd(agent, seed, evaluations, runBudget);
        },
      });
      progress.stop();
      if (args.json) process.stdout.write(`${JSON.stringify(result.summary)}\n`);
      else {
        process.stdout.write(`${formatCompareSummary(result.summary)}\n`);
        process.stdout.write(`written: ${[result.paths.report, result.paths.summary, result.paths.csv].filter(Boolean).map((p) => rel(p!)).join(', ')}, runs in ${rel(join(out, 'runs'))}/\n`);
      }
      if (result.paths.report) process.stderr.write(`samstar: report: ${result.paths.report}\n`);
      if (controller.signal.aborted) {
        process.stderr.write(`samstar: interrupted; the summary and report are partial. Continue with: samstar compare --config ${args.config} --out ${rel(out)} --resume${args.agents !== 'cmaes,bo,grid,random' ? ` --agents ${args.agents}` : ''}${args.segmenters !== undefined ? ` --segmenters ${args.segmenters}` : ''} --seeds ${args.seeds}${args.budget !== undefined ? ` --budget ${args.budget}` : ''}${args.seed !== undefined ? ` --seed ${args.seed}` : ''}${args['init-policy'] !== undefined ? ` --init-policy ${args['init-policy']}` : ''}\n`);
        process.exitCode = 130;
      }
    } finally {
      progress.stop();
      process.off('SIGINT', onSigint);
    }
  },
};
