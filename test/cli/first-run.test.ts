import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { noMasksHint } from '../../src/cli/image-options.js';
import { schemaText } from '../../src/config/json-schema.js';
import { runCli } from './run-cli.js';

/** What a first-time user meets: the command list, a hint when nothing is found, the schemas. */
describe('samstar for a first-time user', () => {
  it('a bare `samstar` lists the commands (exit 0)', () => {
    const r = runCli([]);
    expect(r.status).toBe(0);
    for (const name of ['segment', 'train', 'measure', 'evaluate', 'watch', 'serve', 'schema', 'completion']) expect(r.stdout).toContain(`samstar ${name}`);
  });

  it('a run that finds 0 masks says what to try; a stack in gives a frame per page', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'samstar-first-'));
    const flat = Buffer.alloc(64 * 64 * 2, 90);
    const stack = join(dir, 'flat.tif');
    writeFileSync(stack, await sharp(flat, { raw: { width: 64, height: 128, channels: 1, pageHeight: 64 } }).toColourspace('b-w').tiff({ compression: 'lzw' }).toBuffer());
    const r = runCli(['segment', stack, '--segmenter', 'blobs', '--out', join(dir, 'out'), '--csv', join(dir, 'out', 'cells.csv')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('flat.tif#p0000: 0 masks');
    expect(r.stdout).toContain('flat.tif#p0001: 0 masks');
    expect(r.stderr).toContain('no masks found');
    expect(r.stderr).toContain('samstar knobs --segmenter blobs');
    expect(r.stderr).toContain('samstar train');
    expect(readFileSync(join(dir, 'out', 'cells.frames.csv'), 'utf8').trim().split('\n')).toHaveLength(3);
  });

  it('the hint for the sam segmenter names its thresholds, the microscopy preset and blob prompts', () => {
    const hint = noMasksHint('sam');
    for (const part of ['pred_iou_thresh', 'stability_score_thresh', 'configs/knobs/microscopy.yaml', '--prompts blobs', 'samstar train']) expect(hint).toContain(part);
  });

  it('`samstar schema task` prints the generated schema', () => {
    const r = runCli(['schema', 'task']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(schemaText('task'));
  });
});
