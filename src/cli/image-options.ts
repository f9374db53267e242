import type { Argv } from 'yargs';
import { SamstarError } from '../util/errors.js';
import { parsePixelSize } from '../util/units.js';

/**
 * `--channel` and `--pixel-size`, written once for every command that reads images
 * (segment, watch, serve, measure, train). Stacks need no flag: every frame of a
 * multi-page TIFF is read (README "Stacks, channels and units").
 */
export interface ImageArgs {
  channel?: number;
  'pixel-size'?: string;
}

export function imageOptions<T>(y: Argv<T>): Argv<T & ImageArgs> {
  return y
    .option('channel', { type: 'number', describe: 'the signal channel (0-based) of multi-channel images: ImageJ/OME channels, two-channel TIFFs, or one colour of RGB' })
    .option('pixel-size', { type: 'string', describe: "pixel size, overriding the files' metadata: 650 (nm), 0.65um, 650nm" }) as Argv<T & ImageArgs>;
}

/** The flags checked, as loadFrame options; absent flags stay absent. */
export function imageChoice(args: ImageArgs): { channel?: number; pixelSizeNm?: number } {
  if (args.channel !== undefined && (!Number.isInteger(args.channel) || args.channel < 0)) {
    throw new SamstarError('ARGUMENT_INVALID', `--channel must be a whole number ≥ 0 (got ${args.channel})`, { hint: 'channels are numbered from 0' });
  }
  return {
    ...(args.channel !== undefined ? { channel: args.channel } : {}),
    ...(args['pixel-size'] !== undefined ? { pixelSizeNm: parsePixelSize(args['pixel-size'], '--pixel-size', 'ARGUMENT_INVALID') } : {}),
  };
}

/** What to try when a run found no masks at all (printed once, on stderr), for the segmenter that ran. */
export function noMasksHint(segmenter: string): string {
  const tune = 'or tune the knobs on your images (samstar train, README "Your own images")';
  if (segmenter === 'sam') {
    return (
      'samstar: no masks found. Things to try: lower pred_iou_thresh and stability_score_thresh ' +
      '(e.g. --knobs \'{"pred_iou_thresh":0.5,"stability_score_thresh":0.6}\'), start from the microscopy preset ' +
      `(--knobs configs/knobs/microscopy.yaml), prompt at blobs (--prompts blobs), ${tune}.\n`
    );
  }
  return `samstar: no masks found. Things to try: lower the ${segmenter} segmenter's thresholds (samstar knobs --segmenter ${segmenter} lists its knobs), try --segmenter sam, ${tune}.\n`;
}
