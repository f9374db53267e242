import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSynthDataset } from '../../src/data/synth-files.js';
import { readLabelPng } from '../../src/masks/label-png.js';
import { scorePrediction } from '../../src/measure/index.js';
import { runCli } from './run-cli.js';

describe('samstar segment (end to end, bundled model)', () => {
  let dir: string;
  let images: string[];
  let labels: string[];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'samstar-segment-'));
    const written = await writeSynthDataset(join(dir, 'data'), { frames: 2, width: 256, height: 256, count: 14, diameter: { median: 18, sigma: 0.2 } }, 5);
    images = written.images;
    labels = written.labels;
  });

  it('finds the particles (F1@0.5 > 0.8), writes labels, records and overlay; a corrupt file is skipped, others kept', async () => {
    const broken = join(dir, 'broken.png');
    writeFileSync(broken, 'not a png at all');
    const out = join(dir, 'out');
    const knobs = JSON.stringify({ pred_iou_thresh: 0.85, stability_score_thresh: 0.8, points_per_side: 32, min_mask_region_area: 10 });
    const result = runCli(['segment', images[0], broken, images[1], '--out', out, '--knobs', knobs]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('broken.png');
    for (const [i, image] of images.entries()) {
      const stem = image.split('/').pop()!.replace(/\.png$/, '');
      const json = JSON.parse(readFileSync(join(out, `${stem}.json`), 'utf8'));
      expect(json.knobs.pred_iou_thresh).toBe(0.85);
      expect(json.model.encoder_sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(json.instances.length).toBe(json.count);
      expect(json.instances[0]).toHaveProperty('segmentation.counts');
      expect(json.instances[0]).toHaveProperty('stability_score');
      const meta = await sharp(join(out, `${stem}.labels.png`)).metadata();
      expect(meta.depth).toBe('ushort');
      expect(existsSync(join(out, `${stem}.overlay.png`))).toBe(true);
      const predicted = await readLabelPng(join(out, `${stem}.labels.png`));
      const truth = await readLabelPng(labels[i]);
      const scores = scorePrediction(predicted, truth);
      expect(scores.f1).toBeGreaterThan(0.8);
    }
    expect(existsSync(join(out, 'broken.json'))).toBe(false);
  });

  it('fails fast on an unknown knob, naming it and suggesting the right one', () => {
    const result = runCli(['segment', images[0], '--out', join(dir, 'out2'), '--knobs', '{"stability_thresh": 0.8}']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('stability_thresh');
    expect(result.stderr).toContain('stability_score_thresh');
    expect(existsSync(join(dir, 'out2'))).toBe(false);
  });

  it('rejects an out-of-range knob and a missing image with clear messages', () => {
    const range = runCli(['segment', images[0], '--out', join(dir, 'out3'), '--knobs', '{"box_nms_thresh": 7}']);
    expect(range.status).toBe(1);
    expect(range.stderr).toMatch(/box_nms_thresh.*outside \[0, 1\]/);
    const missing = runCli(['segment', join(dir, 'nope.tif'), '--out', join(dir, 'out4')]);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain('nope.tif');
  });

  it('lists the knobs with their stages', () => {
    const result = runCli(['knobs', '--json']);
    expect(result.status).toBe(0);
    const specs = JSON.parse(result.stdout) as { name: string; stage: string }[];
    expect(specs.find((s) => s.name === 'pred_iou_thresh')?.stage).toBe('filter');
    expect(specs.find((s) => s.name === 'points_per_side')?.stage).toBe('propose');
    expect(specs.find((s) => s.name === 'crop_n_layers')?.stage).toBe('encode');
  });
});
