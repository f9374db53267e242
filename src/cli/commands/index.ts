import type { CommandModule } from 'yargs';
import { command as compare } from './compare.js';
import { command as demo } from './demo.js';
import { command as evaluate } from './evaluate.js';
import { command as knobs } from './knobs.js';
import { command as measure } from './measure.js';
import { command as report } from './report.js';
import { command as reward } from './reward.js';
import { command as schema } from './schema.js';
import { command as segment } from './segment.js';
import { command as serve } from './serve.js';
import { command as studies } from './studies.js';
import { command as synth } from './synth.js';
import { command as train } from './train.js';
import { command as watch } from './watch.js';
import { command as worker } from './worker.js';

// One line per command; each file exports `command`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [demo, segment, knobs, synth, measure, evaluate, reward, train, studies, compare, report, serve, watch, worker, schema];
