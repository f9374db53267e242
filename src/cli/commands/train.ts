import { join, relative, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { imageOptions, type ImageArgs } from '../image-options.js';
import { remoteExecution, remoteOptions, type RemoteArgs } from '../remote-options.js';
import { runtimeOptions, withRuntime, type RuntimeArgs } from '../runtime-options.js';
import { SEGMENTER_NAMES } from '../../segmenters/registry.js';
import type { ResolvedTask } from '../../train/task.js';
import { SamstarError } from '../../util/errors.js';
import { createProgress } from '../../util/progress.js';

interface TrainArgs extends RuntimeArgs, RemoteArgs, ImageArgs {
  config?: string;
  frames?: string[];
  labels?: string;
  agent?: string;
  segmenter?: string;
  budget?: number;
  seed?: number;
  out?: string;
  resume: boolean;
  workers: number;
  json: boolean;
  progress: boolean;
  'init-policy'?: string;
  'per-frame': boolean;
  k?: number;
}

/** `samstar train`: tune the segmenter's knobs for a task; writes best-knobs.json, study.sqlite and summary.json. */
export const command: CommandModule<object, TrainArgs> = {
  command: 'train',
  describe: 'tune segmenter knobs against a reward with an agent; writes OUT/best-knobs.json, OUT/policy/, OUT/study.sqlite, OUT/summary.json',
  builder: (y) =>
    imageOptions(remoteOptions(runtimeOptions(y)))
      .option('config', { type: 'string', describe: 'task config (YAML), e.g. configs/tasks/synthetic-nuclei.yaml' })
      .option('frames', { type: 'string', array: true, describe: 'frames: a glob (quote it), a folder, or files (overrides data.frames)' })
      .option('labels', { type: 'string', describe: 'folder of label images matched by file stem (overrides data.labels)' })
      .option('agent', { type: 'string', describe: 'agent: cmaes, bo, grid or random (best static knobs), or ppo / reinforce (a contextual policy: frame features → knobs); overrides agent.name' })
      .option('segmenter', {
        type: 'string',
        choices: SEGMENTER_NAMES,
        describe: "segmenter (overrides segmenter.name); another than the config's tunes that segmenter's default knobs (the config's knobs are for its own)",
      })
      .option('budget', { type: 'number', describe: 'evaluations in all (overrides budget; may grow on --resume)' })
      .option('seed', { type: 'number', describe: 'seed of the agent and frame sampling (overrides seed)' })
      .option('out', { type: 'string', describe: 'run folder (default: runs/<task name>)' })
      .option('resume', { type: 'boolean', default: false, describe: 'continue the study in --out where it stopped (replays the stored evaluations)' })
      .option('workers', { type: 'number', default: 1, describe: 'worker threads for frame-parallel evaluation' })
      .option('json', { type: 'boolean', default: false, describe: 'print the summary as JSON' })
      .option('progress', { type: 'boolean', default: true, describe: 'show a progress bar on stderr (--no-progress to hide)' })
      .option('init-policy', { type: 'string', describe: 'ppo/reinforce: start the policy at the knobs of a static policy folder (e.g. OUT/policy of a cmaes run on the same task)' })
      .option('per-frame', {
        type: 'boolean',
        default: false,
        describe: 'a lookup policy: the black-box agent tunes each frame on its own (budget per frame; studies in OUT/frames/), then frame features → the nearest frames\' best knobs',
      })
      .option('k', { type: 'number', describe: 'with --per-frame: neighbours the lookup policy blends (default 3)' })
      .example('$0 train --config configs/tasks/synthetic-nuclei.yaml --out runs/demo', 'tune on the task\'s frames')
      .example('$0 train --out runs/demo --resume', 'continue an interrupted run with its stored config')
      .example('$0 train --config configs/tasks/synthetic-nuclei.yaml --agent ppo --budget 2000 --out runs/ppo', 'train a contextual policy (OUT/policy/) for samstar segment --policy / samstar watch')
      .example('$0 train --config task.yaml --agent cmaes --budget 40 --per-frame --out runs/lookup', 'per-frame optimum on each training frame, then a lookup policy (frame features → knobs)') as never,
  handler: async (args) => {
    // Heavy modules load only when this command runs: the CLI starts fast for every other command.
    const { loadTaskConfig } = await import('../../config/task.js');
    const { formatSummary } = await import('../../train/summary.js');
    const { resolveTask, withSegmenter } = await import('../../train/task.js');
    const { storedTask, train, STUDY_FILE } = await import('../../train/train.js');
    if (args.budget !== undefined && (!Number.isInteger(args.budget) || args.budget < 1)) {
      throw new SamstarError('ARGUMENT_INVALID', `--budget must be a whole number ≥ 1 (got ${args.budget})`);
    }
    if (args.seed !== undefined && (!Number.isInteger(args.seed) || args.seed < 0)) {
      throw new SamstarError('ARGUMENT_INVALID', `--seed must be a whole number ≥ 0 (got ${args.seed})`);
    }
    let task: ResolvedTask;
    let execution: Parameters<typeof remoteExecution>[1];
    if (args.config) {
      const frames = args.frames === undefined ? undefined : args.frames.length === 1 ? args.frames[0] : args.frames;
      const config = await loadTaskConfig(args.config, { frames, labels: args.labels, agent: args.agent, budget: args.budget, seed: args.seed, channel: args.channel, pixelSize: args['pixel-size'] });
      const resolved = await resolveTask(config);
      execution = config.execution;
      // Another segmenter than the config's tunes its own default knobs (withSegmenter): the config's knobs are for its own.
      task = withRuntime(args.segmenter ? withSegmenter(resolved, args.segmenter) : resolved, args);
    } else {
      if (!args.resume || !args.out) {
        throw new SamstarError('ARGUMENT_INVALID', 'give --config FILE (or --resume --out DIR to continue a stored run)', { hint: 'example task configs are in configs/tasks/' });
      }
      if (args.frames || args.labels || args.agent || args.segmenter || args.seed !== undefined) {
        throw new SamstarError('ARGUMENT_INVALID', '--resume without --config continues the stored task; only --budget may change', {
          hint: 'pass --config to check a config against the stored one',
        });
      }
      task = withRuntime(storedTask(args.out), args);
      if (args.budget !== undefined) task = { ...task, budget: args.budget };
    }
    const out = resolve(args.out ?? join('runs', task.name));
    const remote = remoteExecution(args, execution);
    const { isPolicyAgentName } = await import('../../config/task.js');

    const controller = new AbortController();
    let interrupts = 0;
    const onSigint = (): void => {
      interrupts++;
      if (interrupts === 1) {
        process.stderr.write('\nsamstar: stopping after the evaluation in flight (Ctrl-C again to quit at once; the study stays valid)\n');
        controller.abort();
      } else {
        process.exit(130);
      }
    };
    process.on('SIGINT', onSigint);
    if (args['init-policy'] && !isPolicyAgentName(task.agent.name)) {
      throw new SamstarError('ARGUMENT_INVALID', `--init-policy warm-starts a ppo/reinforce policy; agent "${task.agent.name}" takes no policy`);
    }
    let progress = createProgress('train', 0);
    let bestText = '—';
    const rel = (p: string): string => relative(process.cwd(), p) || p;
    const resumeHint = (): string => `samstar train ${args.config ? `--config ${args.config} ` : ''}--out ${relative(process.cwd(), out) || out} --resume`;
    // What both kinds of run (black-box, contextual policy) print at the start, after the default knobs and at the end.
    const announce =
      (kind: string) =>
      ({ study, resumed, stored, budget, frames }: { study: { name: string }; resumed: boolean; stored: number; budget: number; frames: number }): void => {
        const what = resumed ? `resuming study "${study.name}" (${stored} stored evaluation(s) to replay)` : `study "${study.name}"`;
        process.stderr.write(`samstar: ${what}: ${task.agent.name}${kind} on ${frames} frame(s), tuning ${task.knobSpace.map((s) => s.name).join(', ')}, budget ${budget}\n`);
      };
    const startProgress =
      (fields: string) =>
      ({ total }: { total: number }): void => {
        process.stderr.write(`samstar: default knobs: reward ${Number.isFinite(total) ? total.toFixed(4) : String(total)}\n`);
        progress = createProgress('train', task.budget, { enabled: args.progress, fields, initial: { best: bestText } });
      };
    const finish = (summary: { evaluations: number }, text: string, written: (string | undefined)[], interrupted: boolean, lost = ''): void => {
      progress.stop();
      if (args.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      else {
        process.stdout.write(`${text}\n`);
        process.stdout.write(`written: ${written.filter((p): p is string => Boolean(p)).map(rel).join(', ')}\n`);
      }
      if (interrupted) {
        process.stderr.write(`samstar: interrupted after ${summary.evaluations} evaluation(s); all of them are stored in ${join(out, STUDY_FILE)}${lost}\n  resume with: ${resumeHint()}\n`);
        process.exitCode = 130;
      }
    };
    try {
      if (args['per-frame']) {
        if (isPolicyAgentName(task.agent.name)) {
          throw new SamstarError('ARGUMENT_INVALID', `--per-frame runs a black-box agent on each frame; "${task.agent.name}" is a policy agent`, { hint: 'use --agent cmaes, bo, grid or random' });
        }
        if (args.k !== undefined && (!Number.isInteger(args.k) || args.k < 1)) throw new SamstarError('ARGUMENT_INVALID', `--k must be a whole number ≥ 1 (got ${args.k})`);
        const { trainLookupPolicy, formatLookupSummary } = await import('../../train/lookup-train.js');
        const { basename } = await import('node:path');
        process.stderr.write(`samstar: per-frame ${task.agent.name} on ${task.data.frames.length} frame(s), tuning ${task.knobSpace.map((s) => s.name).join(', ')}, budget ${task.budget} per frame\n`);
        progress = createProgress('train', task.data.frames.length, { enabled: args.progress, fields: '{name}' });
        const result = await trainLookupPolicy(task, {
          out,
          resume: args.resume,
          signal: controller.signal,
          workers: args.workers,
          ...(args.k !== undefined ? { k: args.k } : {}),
          onFrame: (i, _n, frame) => progress.update(i, { name: basename(frame) }),
          onFrameDone: (i) => progress.update(i + 1),
        });
        finish(result.summary, formatLookupSummary(result.summary), [result.paths.policy, result.paths.summary, result.paths.frames], result.status === 'interrupted', ' (no policy written)');
        return;
      }
      if (isPolicyAgentName(task.agent.name)) {
        const { trainPolicy, formatPolicySummary, initFromPolicy } = await import('../../train/policy-train.js');
        const init = args['init-policy'] ? await initFromPolicy(args['init-policy'], task) : undefined;
        const result = await trainPolicy(task, {
          init,
          out,
          resume: args.resume,
          signal: controller.signal,
          workers: args.workers,
          remote,
          onStart: announce(' contextual policy'),
          onDefault: startProgress('batch reward {best}'),
          onEvaluation: ({ done, evaluation, replayed }) => {
            if (!replayed && Number.isNaN(evaluation.total)) {
              process.stderr.write(`\nsamstar: evaluation #${evaluation.index} failed${evaluation.error ? `: ${evaluation.error.split('\n')[0]}` : ''} (stored; left out of the batch)\n`);
            }
            progress.update(done, { best: bestText });
          },
          onUpdate: ({ stats, done }) => {
            bestText = stats.meanReward.toFixed(4);
            progress.update(done, { best: bestText });
          },
        });
        const { summary, paths } = result;
        finish(summary, formatPolicySummary(summary), [paths.policy, paths.summary, paths.study], result.status === 'interrupted', ' (no policy written)');
        return;
      }
      const result = await train(task, {
        out,
        resume: args.resume,
        signal: controller.signal,
        workers: args.workers,
        remote,
        onStart: announce(''),
        onDefault: startProgress('best {best}'),
        onEvaluation: ({ done, best, evaluation, replayed }) => {
          if (best) bestText = best.total.toFixed(4);
          if (!replayed && Number.isNaN(evaluation.total)) {
            process.stderr.write(`\nsamstar: evaluation #${evaluation.index} gave a NaN reward${evaluation.error ? `: ${evaluation.error.split('\n')[0]}` : ''} (stored; told to the agent as the worst)\n`);
          }
          progress.update(done, { best: bestText });
        },
      });
      const { summary, paths } = result;
      const front = result.pareto
        ? `\npareto front: ${result.pareto.front.length} non-dominated of ${result.pareto.evaluations} evaluations; best-knobs.json holds ${result.pareto.chosen.by === 'knee' ? 'the knee' : "the config's weights' pick"} (trial #${result.pareto.chosen.trial}); any other: samstar segment --knobs ${rel(paths.pareto!)} --pick N|knee|w1,w2`
        : '';
      finish(summary, formatSummary(summary) + front, [paths.bestKnobs, paths.pareto, paths.policy, paths.summary, paths.study], result.run.status === 'interrupted');
      if (result.run.status !== 'interrupted' && !summary.best) {
        throw new SamstarError('CONFIG_INVALID', `no evaluation gave a finite reward (${summary.failed} NaN); best-knobs.json was not written`, {
          hint: 'check the reward config against these frames (samstar reward), and the knob bounds',
        });
      }
    } catch (error) {
      progress.stop();
      throw error;
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};
