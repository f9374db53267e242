#!/usr/bin/env node
/**
 * The samstar command line. Commands live one per file in ./commands and only
 * parse arguments and call library functions, so everything here is also an API.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { commands } from './commands/index.js';
import { reportError } from './errors.js';

async function main(): Promise<void> {
  let cli = yargs(hideBin(process.argv))
    .scriptName('samstar')
    .strict()
    .demandCommand(1, 'name a command (samstar --help lists them)')
    .recommendCommands()
    .completion('completion', 'print a bash/zsh completion script (samstar completion >> ~/.bashrc)')
    .help()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((message, error) => {
      // yargs' own usage errors come as a message; errors thrown by handlers come as `error`.
      if (error) throw error;
      throw new UsageError(message);
    });
  for (const command of commands) cli = cli.command(command);
  // A bare `samstar` is someone finding their way in: the command list, not a usage error.
  if (hideBin(process.argv).length === 0) {
    cli.showHelp((text) => process.stdout.write(`${text}\n`));
    return;
  }
  await cli.parseAsync();
}

class UsageError extends Error {}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`samstar: ${error.message}\n(samstar --help lists the commands and options)\n`);
    process.exitCode = 2;
    return;
  }
  process.exitCode = reportError(error);
});
