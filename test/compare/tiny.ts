import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { writeSynthDataset } from '../../src/data/synth-files.js';

/**
 * Two tiny synthetic frames (128², 6 particles, labels beside them) and a task
 * YAML tuning two filter knobs with a physics reward on a sparse 8×8 grid: a
 * comparison of 2 agents × 2 seeds runs in a few seconds on the bundled model.
 */
export async function writeTinyTask(dir: string, options: { budget?: number } = {}): Promise<string> {
  await writeSynthDataset(join(dir, 'data'), { frames: 2, width: 128, height: 128, count: 6, diameter: { median: 16, sigma: 0.2 } }, 100);
  const config = join(dir, 'task.yaml');
  writeFileSync(
    config,
    stringify({
      name: 'tiny',
      data: { frames: 'data/images/*.png', labels: 'data/labels' },
      segmenter: {
        name: 'sam',
        fixed: { points_per_side: 8 },
        tune: { pred_iou_thresh: { min: 0.3, max: 0.98 }, stability_score_thresh: { min: 0.3, max: 0.98 } },
      },
      reward: {
        measure: { foreground: 'bright' },
        terms: {
          size: { type: 'size', target: { distribution: 'lognormal', median: 16, sigma: 0.25 }, tolerance: 0.3 },
          shape: { type: 'shape', solidity: { min: 0.9 } },
          coverage: { type: 'coverage' },
          overlap: { type: 'overlap' },
        },
        total: '0.35*size + 0.3*shape + 0.35*coverage - 0.2*overlap',
      },
      agent: { name: 'cmaes', options: { popsize: 4 } },
      budget: options.budget ?? 6,
      seed: 1,
    }),
  );
  return config;
}
