import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { command as evaluateCommand } from '../../src/cli/commands/evaluate.js';
import { command as measureCommand } from '../../src/cli/commands/measure.js';
import { readFileSync } from 'node:fs';
import { writeLabelPng } from '../../src/masks/label-png.js';
import type { LabelImage } from '../../src/masks/types.js';
import { erode } from '../rewards/perturb.js';

/** Run a command handler in-process and return what it wrote to stdout and stderr. */
async function run<A>(handler: ((args: A) => unknown) | undefined, args: A): Promise<{ out: string; err: string }> {
  let out = '', err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
  try {
    await handler!(args);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  return { out, err };
}

function squares(list: [number, number, number, number][]): LabelImage {
  const data = new Uint32Array(64 * 48);
  for (const [label, r0, c0, side] of list) for (let r = r0; r < r0 + side; r++) for (let c = c0; c < c0 + side; c++) data[r * 64 + c] = label;
  return { width: 64, height: 48, data };
}

let dir = '';
const truthLabels = squares([[1, 4, 4, 10], [2, 20, 30, 12], [3, 30, 5, 8]]);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samstar-measure-cli-'));
  await writeLabelPng(join(dir, 'truth', 'a.png'), truthLabels);
  await writeLabelPng(join(dir, 'truth', 'b.labels.png'), truthLabels);
  await writeFile(join(dir, 'truth', 'c.txt'), '0 0.140625 0.1875 0.15625 0.208333\n0 0.5625 0.541667 0.1875 0.25\n');
  await writeLabelPng(join(dir, 'truth', 'only-truth.png'), truthLabels);
  await writeLabelPng(join(dir, 'pred', 'a.labels.png'), truthLabels);
  await writeLabelPng(join(dir, 'pred', 'b.png'), erode(truthLabels, 2));
  await writeLabelPng(join(dir, 'pred', 'c.png'), truthLabels);
  await writeLabelPng(join(dir, 'pred', 'only-pred.png'), truthLabels);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('CLI: measure, evaluate', () => {
  it('are registered (index.ts lists them; importing it would load every command and ONNX)', () => {
    const index = readFileSync(new URL('../../src/cli/commands/index.ts', import.meta.url), 'utf8');
    for (const name of ['measure', 'evaluate', 'reward']) {
      expect(index).toContain(`import { command as ${name} } from './${name}.js';`);
      expect(index).toMatch(new RegExp(`commands: CommandModule<any, any>\\[\\] = \\[[^\\]]*\\b${name}\\b`));
    }
  });

  it('measure --json prints instances with skimage names and the frame', async () => {
    const { out } = await run(measureCommand.handler, { labels: join(dir, 'truth', 'a.png'), json: true, 'ring-width': 2, foreground: 'auto' } as never);
    const parsed = JSON.parse(out) as { instances: Record<string, unknown>[]; frame: Record<string, unknown> };
    expect(parsed.instances).toHaveLength(3);
    expect(parsed.instances[0]).toMatchObject({ label: 1, area: 100, perimeter: 36, equivalent_diameter: Math.sqrt(400 / Math.PI), solidity: 1 });
    for (const key of ['eccentricity', 'circularity', 'major_axis_length', 'orientation', 'convex_area', 'bbox', 'centroid']) {
      expect(parsed.instances[0]).toHaveProperty(key);
    }
    expect(parsed.frame).toMatchObject({ count: 3, width: 64, height: 48, overlap_pixels: 0 });
  });

  it('measure without --json prints a table', async () => {
    const { out } = await run(measureCommand.handler, { labels: join(dir, 'truth', 'a.png'), json: false, 'ring-width': 2, foreground: 'auto' } as never);
    expect(out).toMatch(/^3 instances in 64×48/);
    expect(out).toContain('solidity');
  });

  it('evaluate pairs files by name, scores labels and boxes, and reports the unmatched', async () => {
    const { out, err } = await run(evaluateCommand.handler, { pred: join(dir, 'pred'), truth: join(dir, 'truth'), json: true } as never);
    const result = JSON.parse(out) as {
      images: { name: string; precision: number; recall: number; f1: number; msa: number | null; mean_iou: number }[];
      mean: Record<string, number | null>;
      unmatched: { pred: string[]; truth: string[] };
    };
    expect(result.images.map((i) => i.name)).toEqual(['a', 'b', 'c']);
    expect(result.images[0]).toMatchObject({ precision: 1, recall: 1, f1: 1, msa: 1, mean_iou: 1 });
    // b: eroded by 2 px: 6×6 in 10×10 (IoU .36), 8×8 in 12×12 (.44), 4×4 in 8×8 (.25): nothing at 0.5.
    expect(result.images[1]).toMatchObject({ precision: 0, recall: 0, f1: 0, msa: 0 });
    // c: two boxes, three instances: the two boxed squares match by centre.
    expect(result.images[2].msa).toBeNull();
    expect(result.images[2].recall).toBe(1);
    expect(result.images[2].precision).toBeCloseTo(2 / 3, 12);
    expect(result.mean.precision).toBeCloseTo((1 + 0 + 2 / 3) / 3, 12);
    expect(result.mean.msa).toBeCloseTo(0.5, 12);
    expect(result.unmatched).toEqual({ pred: ['only-pred.png'], truth: ['only-truth.png'] });
    expect(err).toContain('only-pred.png');
    expect(err).toContain('only-truth.png');
  });

  it('evaluate on a missing folder is a clear error', async () => {
    await expect(run(evaluateCommand.handler, { pred: join(dir, 'nope'), truth: join(dir, 'truth'), json: true } as never)).rejects.toThrow(
      /cannot list the prediction folder .*nope/,
    );
  });
});
