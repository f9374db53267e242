import type { CommandModule } from 'yargs';

interface SchemaArgs {
  name: 'task' | 'reward';
}

/** `samstar schema task|reward`: the JSON Schema of a config, for editors (README "Editor completion for configs"). */
export const command: CommandModule<object, SchemaArgs> = {
  command: 'schema <name>',
  describe: 'print the JSON Schema of a task or reward config (editor completion: yaml-language-server)',
  builder: (y) =>
    y
      .positional('name', { choices: ['task', 'reward'] as const, demandOption: true, describe: 'which config' })
      .example('$0 schema task > task.schema.json', 'write the task config schema') as never,
  handler: async (args) => {
    const { schemaText } = await import('../../config/json-schema.js');
    process.stdout.write(schemaText(args.name));
  },
};
