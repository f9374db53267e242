import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { command as rewardCommand } from '../../src/cli/commands/reward.js';
import { writeLabelPng } from '../../src/masks/label-png.js';
import type { LabelImage } from '../../src/masks/types.js';

const CONFIGS = join(dirname(fileURLToPath(import.meta.url)), '../../configs/rewards');

async function run(args: Record<string, unknown>): Promise<string> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  try {
    await rewardCommand.handler!(args as never);
  } finally {
    spy.mockRestore();
  }
  return out;
}

let dir = '';
const labels: LabelImage = { width: 40, height: 30, data: new Uint32Array(40 * 30) };
for (let r = 5; r < 15; r++) for (let c = 5; c < 15; c++) labels.data[r * 40 + c] = 1;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samstar-reward-cli-'));
  await writeLabelPng(join(dir, 'pred.png'), labels);
  await writeFile(join(dir, 'bad.yaml'), 'terms:\n  size:\n    target: { distribution: lognormal, median: 10, sigma: -1 }\ntotal: size\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('CLI: reward', () => {
  it('prints the terms and the total (JSON)', async () => {
    const out = await run({ prediction: join(dir, 'pred.png'), config: join(CONFIGS, 'supervised.yaml'), truth: join(dir, 'pred.png'), json: true });
    expect(JSON.parse(out)).toEqual({ total: expect.closeTo(1, 12), terms: { msa: 1, f1: 1, mean_iou: 1 }, objectives: [1, 1] });
  });

  it('prints a readable table by default', async () => {
    const out = await run({ prediction: join(dir, 'pred.png'), config: join(CONFIGS, 'rods.yaml'), json: false });
    expect(out).toMatch(/^size\s+\d\.\d{4}\nshape\s+[\d.]+\noverlap\s+0\.0000\nborder\s+0\.0000\ntotal\s+-?[\d.]+\n$/);
  });

  it('a bad config names the file and the field', async () => {
    await expect(run({ prediction: join(dir, 'pred.png'), config: join(dir, 'bad.yaml'), json: true })).rejects.toThrow(
      /bad\.yaml: invalid reward config\n {2}terms\.size\.target\.sigma: spread must be > 0 \(found -1\)/,
    );
  });
});
