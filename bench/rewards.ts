/**
 * Measure + score one 1024×1024 frame with 500 instances with the nanoparticle reward
 * (configs/rewards/nanoparticles.yaml): the cost a tuning run pays per evaluation.
 *
 * The prediction is a Segmentation of 500 COCO-RLE masks (what a segmenter returns); the same
 * frame as a label image is timed too. Per-frame statistics (grey histogram, gradient
 * reference) are cached per frame, as in a tuning run, where one frame is scored with many knob
 * settings: the first ("cold") evaluation pays them and is reported separately.
 * Last line: {"bench":"rewards","instances":500,"ms":<median ms, segmentation>}.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSynthFrame } from '../src/data/synth.js';
import type { LabelImage } from '../src/masks/types.js';
import { segmentationFromLabels } from '../src/measure/segmentation-from-labels.js';
import type { Segmentation } from '../src/segmenters/types.js';
import { Rng } from '../src/util/rng.js';
import { compileReward, evaluateReward } from '../rewards/composite.js';
import { loadRewardConfig } from '../rewards/config.js';
import { machineLine, median } from './_machine.js';

const CONFIG = join(dirname(fileURLToPath(import.meta.url)), '../configs/rewards/nanoparticles.yaml');


export async function run(): Promise<void> {
  console.log(machineLine());
  const synth = generateSynthFrame(
    {
      width: 1024,
      height: 1024,
      count: 500,
      diameter: { median: 12, sigma: 0.3, min: 4 },
      elongation: { fraction: 0.1 },
      shading: 'dome',
      gap: 2,
    },
    new Rng(2024),
    'bench-rewards',
  );
  const { frame, labels } = synth;
  const segmentation = segmentationFromLabels(labels);
  const instances = segmentation.instances.length;
  const reward = compileReward(await loadRewardConfig(CONFIG));

  const coldStart = performance.now();
  const first = evaluateReward(reward, segmentation, { frame });
  const coldMs = performance.now() - coldStart;
  console.log(`cold (first call, per-frame caches empty): ${coldMs.toFixed(1)} ms; terms ${JSON.stringify(first.terms)}`);

  const time = (prediction: Segmentation | LabelImage, runs: number): number[] => {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      evaluateReward(reward, prediction, { frame });
      times.push(performance.now() - t0);
    }
    return times;
  };
  time(segmentation, 10); // warm-up (JIT)
  time(labels, 10);
  const segTimes = time(segmentation, 60);
  const labelTimes = time(labels, 60);
  const q = (t: number[], f: number): number => [...t].sort((a, b) => a - b)[Math.floor(f * (t.length - 1))];
  console.log(
    `segmentation (${instances} RLE masks): median ${median(segTimes).toFixed(2)} ms (p10 ${q(segTimes, 0.1).toFixed(2)}, p90 ${q(segTimes, 0.9).toFixed(2)})`,
  );
  console.log(
    `label image: median ${median(labelTimes).toFixed(2)} ms (p10 ${q(labelTimes, 0.1).toFixed(2)}, p90 ${q(labelTimes, 0.9).toFixed(2)})`,
  );
  console.log(JSON.stringify({ bench: 'rewards', instances, ms: Number(median(segTimes).toFixed(2)) }));
}
