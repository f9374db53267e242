import type { CommandModule } from 'yargs';

// One line per command; each file exports `command`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [];
