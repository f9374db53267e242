import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { SamstarError } from '../../util/errors.js';

interface StudiesArgs {
  target?: string;
  path?: string;
  name?: string;
  json: boolean;
}

/** `samstar studies [PATH|DIR]` lists stored runs; `samstar studies show PATH` shows one. */
export const command: CommandModule<object, StudiesArgs> = {
  command: 'studies [target] [path]',
  describe: 'list stored training runs (name, agent, evaluations, best, status), or `studies show PATH` for one',
  builder: (y) =>
    y
      .positional('target', { type: 'string', describe: 'a study.sqlite, a run folder or a folder of runs (default: .); or "show"' })
      .positional('path', { type: 'string', describe: 'with show: the study.sqlite or run folder' })
      .option('name', { type: 'string', describe: 'with show: which study, when a file holds several' })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
      .example('$0 studies runs/', 'every run under runs/')
      .example('$0 studies show runs/demo', 'best knobs, terms and history of one run') as never,
  handler: async (args) => {
    // Heavy modules load only when this command runs: the CLI starts fast for every other command.
    const { formatStudyDetail, formatStudyList, listStudies, showStudy } = await import('../../train/studies.js');
    if (args.target === 'show') {
      if (!args.path) throw new SamstarError('ARGUMENT_INVALID', 'studies show: give the study.sqlite or run folder', { hint: 'samstar studies show runs/demo' });
      const file = studyFileOf(args.path);
      const detail = showStudy(file, args.name);
      process.stdout.write(`${args.json ? JSON.stringify(detail) : formatStudyDetail(detail)}\n`);
      return;
    }
    if (args.path !== undefined) {
      throw new SamstarError('ARGUMENT_INVALID', `studies: unexpected second argument "${args.path}"`, { hint: 'samstar studies [DIR] lists runs; samstar studies show PATH shows one' });
    }
    const { rows, skipped } = await listStudies(args.target ?? '.');
    for (const s of skipped) process.stderr.write(`samstar: skipped ${s.path}: ${s.reason.split('\n')[0]}\n`);
    process.stdout.write(`${args.json ? JSON.stringify(rows) : formatStudyList(rows)}\n`);
  },
};

/** A run folder stands for its study.sqlite. */
function studyFileOf(path: string): string {
  if (existsSync(path) && statSync(path).isDirectory()) {
    const file = join(path, 'study.sqlite');
    if (!existsSync(file)) throw new SamstarError('IO_ERROR', `${path} holds no study.sqlite`, { hint: 'samstar studies DIR lists the runs under a folder' });
    return file;
  }
  return path;
}
