import { loadFrame } from '../src/image/load.js';
import { readLabelPng } from '../src/masks/label-png.js';
import { readYoloBoxes } from '../src/measure/boxes.js';
import { compileReward, evaluateReward, type RewardResult } from './composite.js';
import { loadRewardConfig } from './config.js';
import type { Truth } from './types.js';

/**
 * `samstar reward`: score a label image file with a reward config file, reading the image and
 * the ground truth (a label image, or a YOLO .txt box file) when the config needs them.
 */
export async function rewardForFiles(
  configPath: string,
  predictionPath: string,
  options: { image?: string; truth?: string } = {},
): Promise<RewardResult> {
  const reward = compileReward(await loadRewardConfig(configPath));
  const prediction = await readLabelPng(predictionPath);
  const frame = options.image ? await loadFrame(options.image) : undefined;
  let truth: Truth | undefined;
  if (options.truth) {
    truth = options.truth.toLowerCase().endsWith('.txt')
      ? await readYoloBoxes(options.truth, prediction.width, prediction.height)
      : await readLabelPng(options.truth);
  }
  return evaluateReward(reward, prediction, { frame, truth, source: predictionPath });
}

export function formatReward(result: RewardResult): string {
  const names = Object.keys(result.terms);
  const width = Math.max(5, ...names.map((n) => n.length));
  const lines = names.map((n) => `${n.padEnd(width)}  ${result.terms[n].toFixed(4)}`);
  if (result.objectives) lines.push(`${'objectives'.padEnd(width)}  [${result.objectives.map((o) => o.toFixed(4)).join(', ')}]`);
  lines.push(`${'total'.padEnd(width)}  ${result.total.toFixed(4)}`);
  return lines.join('\n');
}
