import cliProgress from 'cli-progress';
import type { CommandModule } from 'yargs';
import type { SynthSeriesOptionsInput } from '../../data/synth-options.js';
import { SamstarError } from '../../util/errors.js';

interface SynthArgs {
  out: string;
  frames: number;
  seed: number;
  width?: number;
  height?: number;
  count?: number;
  density?: number;
  diameter?: number;
  sigma?: number;
  elongated?: number;
  gap?: number;
  polarity?: 'bright' | 'dark';
  background?: number;
  contrast?: number;
  shading?: 'flat' | 'dome';
  unevenness?: number;
  bodies?: number;
  'body-size'?: string;
  'body-contrast'?: number;
  blur?: number;
  photons?: number;
  'read-noise'?: number;
  'bit-depth'?: number;
  'full-scale'?: number;
  'drift-diameter'?: number;
  'drift-contrast'?: number;
  'drift-count'?: number;
  'drift-profile'?: 'linear' | 'sine';
  'drift-cycles'?: number;
}

/** `samstar synth`: write a synthetic microscopy dataset with exact instance labels. */
export const command: CommandModule<object, SynthArgs> = {
  command: 'synth',
  describe: 'write synthetic microscopy frames with instance ground truth (images/, labels/, truth.json)',
  builder: (y) =>
    y
      .option('out', { type: 'string', demandOption: true, describe: 'output folder' })
      .option('frames', { type: 'number', default: 1, describe: 'number of frames' })
      .option('seed', { type: 'number', default: 0, describe: 'random seed (same seed, same data)' })
      .option('width', { type: 'number', describe: 'frame width in px (default 512)' })
      .option('height', { type: 'number', describe: 'frame height in px (default 512)' })
      .option('count', { type: 'number', describe: 'particles per frame (default 50)' })
      .option('density', { type: 'number', describe: 'particles per 10 000 px² (instead of --count)' })
      .option('diameter', { type: 'number', describe: 'median particle diameter in px (default 16)' })
      .option('sigma', { type: 'number', describe: 'log-normal sigma of the diameter (default 0.25)' })
      .option('elongated', { type: 'number', describe: 'fraction of rod-like particles, 0–1 (default 0.25)' })
      .option('gap', { type: 'number', describe: 'minimum background px between particles (default 2)' })
      .option('polarity', { choices: ['bright', 'dark'] as const, describe: 'particles brighter or darker than background' })
      .option('background', { type: 'number', describe: 'background level, 0–1 of full scale' })
      .option('contrast', { type: 'number', describe: 'particle contrast, 0–1 of full scale (default 0.5)' })
      .option('shading', { choices: ['flat', 'dome'] as const, describe: 'particle interior profile (default flat)' })
      .option('unevenness', { type: 'number', describe: 'amplitude of the uneven background, 0–1 (default 0.05)' })
      .option('bodies', { type: 'number', describe: 'large unlabelled bodies (cells, an embryo) under the particles (default 0)' })
      .option('body-size', { type: 'string', describe: 'LOW,HIGH: long diameter of a body as a fraction of the short side (default 0.3,0.7)' })
      .option('body-contrast', { type: 'number', describe: "a body's signal with the particles' polarity, 0–1 of full scale (default 0.25)" })
      .option('blur', { type: 'number', describe: 'Gaussian blur sigma in px (default 1)' })
      .option('photons', { type: 'number', describe: 'photons at full scale for shot noise; 0 = none (default 400)' })
      .option('read-noise', { type: 'number', describe: 'Gaussian read noise, fraction of full scale (default 0.01)' })
      .option('bit-depth', { type: 'number', choices: [8, 16], describe: 'sample bit depth of the images (default 8)' })
      .option('full-scale', { type: 'number', describe: 'sample value of intensity 1 (e.g. 4095 for 12-bit data in 16-bit files)' })
      .option('drift-diameter', { type: 'number', describe: 'median diameter at the last frame (size drift)' })
      .option('drift-contrast', { type: 'number', describe: 'contrast at the last frame (contrast drift)' })
      .option('drift-count', { type: 'number', describe: 'particles in the last frame (needs --count; e.g. ripening: fewer, larger particles)' })
      .option('drift-profile', { choices: ['linear', 'sine'] as const, describe: 'how the drift goes from start to end (default linear)' })
      .option('drift-cycles', { type: 'number', describe: 'half-periods of the sine drift (2 = there and back)' })
      .example('$0 synth --out data/synth --frames 20 --seed 1 --drift-diameter 28', 'a drifting 20-frame stream'),
  handler: async (args) => {
    // Heavy modules load only when this command runs: the CLI starts fast for every other command.
    const { writeSynthDataset } = await import('../../data/synth-files.js');
    if (!Number.isInteger(args.seed)) {
      throw new SamstarError('ARGUMENT_INVALID', `--seed ${args.seed} is invalid; expected an integer`);
    }
    const options = toOptions(args);
    const showBar = args.frames > 1 && process.stderr.isTTY === true;
    const bar = showBar
      ? new cliProgress.SingleBar({ stream: process.stderr, format: 'synth [{bar}] {value}/{total} frames' }, cliProgress.Presets.shades_classic)
      : undefined;
    bar?.start(args.frames, 0);
    try {
      const written = await writeSynthDataset(args.out, options, args.seed, { onFrame: (done) => bar?.update(done) });
      bar?.stop();
      for (const c of written.crowded) {
        process.stderr.write(`samstar: frame ${c.index}: placed ${c.placed} of ${c.requested} particles (frame too crowded for the gap)\n`);
      }
      process.stdout.write(
        `wrote ${written.images.length} frame(s) to ${written.outDir}: images/, labels/, ${written.truth.split(/[\\/]/).pop()}\n`,
      );
    } finally {
      bar?.stop();
    }
  },
};

/** CLI flags → generator options; unset flags stay unset so the generator's defaults apply. */
function toOptions(a: SynthArgs): SynthSeriesOptionsInput {
  const defined = <T extends object>(o: T): T =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  const diameter = defined({ median: a.diameter, sigma: a.sigma });
  const noise = defined({ photons: a.photons, read: a['read-noise'] });
  const bodies = defined({ count: a.bodies, size: a['body-size'] === undefined ? undefined : bodySize(a['body-size']), contrast: a['body-contrast'] });
  const drift = defined({
    diameter: a['drift-diameter'],
    contrast: a['drift-contrast'],
    count: a['drift-count'],
    profile: a['drift-profile'],
    cycles: a['drift-cycles'],
  });
  return defined({
    frames: a.frames,
    width: a.width,
    height: a.height,
    count: a.count,
    density: a.density,
    diameter: Object.keys(diameter).length ? diameter : undefined,
    elongation: a.elongated === undefined ? undefined : { fraction: a.elongated },
    gap: a.gap,
    polarity: a.polarity,
    background: a.background,
    contrast: a.contrast,
    shading: a.shading,
    unevenness: a.unevenness,
    bodies: Object.keys(bodies).length ? bodies : undefined,
    blur: a.blur,
    noise: Object.keys(noise).length ? noise : undefined,
    bitDepth: a['bit-depth'] as 8 | 16 | undefined,
    fullScale: a['full-scale'],
    drift: Object.keys(drift).length ? drift : undefined,
  });
}

/** `--body-size LOW,HIGH` (or one value for both) → [low, high]; the generator's schema checks the range. */
function bodySize(text: string): [number, number] {
  const parts = text.split(',').map((t) => Number(t.trim()));
  if (parts.length === 1) parts.push(parts[0]);
  if (parts.length !== 2 || parts.some((v) => !Number.isFinite(v))) {
    throw new SamstarError('ARGUMENT_INVALID', `--body-size ${text} is invalid; expected LOW,HIGH (fractions of the short side, e.g. 0.3,0.7) or one fraction`);
  }
  return [parts[0], parts[1]];
}
