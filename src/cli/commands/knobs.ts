import type { CommandModule } from 'yargs';
import { SEGMENTER_NAMES, segmenterKnobSpace } from '../../segmenters/registry.js';

interface KnobsArgs {
  json: boolean;
  segmenter: string;
}

export const command: CommandModule<object, KnobsArgs> = {
  command: 'knobs',
  describe: 'List the segmenter knobs with bounds, defaults and the stage each invalidates',
  builder: (y) =>
    y
      .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
      .option('segmenter', { type: 'string', default: 'sam', choices: SEGMENTER_NAMES, describe: 'whose knobs' }) as never,
  handler: (args) => {
    const space = segmenterKnobSpace(args.segmenter);
    if (args.json) {
      process.stdout.write(JSON.stringify(space.toJSON(), null, 2) + '\n');
      return;
    }
    const rows = space.specs.map((s) => [
      s.name,
      s.kind,
      s.kind === 'choice' ? s.choices.join('|') : `[${s.min}, ${s.max}]${s.kind === 'float' && s.step ? ` step ${s.step}` : ''}`,
      String(typeof s.default === 'number' ? Number(s.default.toFixed(6)) : s.default),
      s.stage,
      s.description,
    ]);
    const header = ['knob', 'kind', 'range', 'default', 'stage', 'meaning'];
    const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
    const line = (cells: string[]): string => cells.map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ');
    process.stdout.write(`${line(header)}\n${rows.map(line).join('\n')}\n`);
    process.stdout.write('\nstage = what a change re-runs: encode (image embeddings), propose (decoder runs), filter (cheap: cached proposals)\n');
  },
};
