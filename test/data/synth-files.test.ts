import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { command } from '../../src/cli/commands/synth.js';
import { generateSynthSeries } from '../../src/data/synth.js';
import { writeSynthDataset, type SynthTruth } from '../../src/data/synth-files.js';
import { loadFrame } from '../../src/image/load.js';
import { readLabelPng } from '../../src/masks/label-png.js';
import { Rng } from '../../src/util/rng.js';

/** Byte-exact equality of two typed arrays (vitest's deep equality walks elements one by one: slow on images). */
function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return a.constructor === b.constructor && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samstar-synth-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeSynthDataset', () => {
  it('writes images, 16-bit labels and truth.json that reload to exactly what was generated', async () => {
    const options = { width: 96, height: 80, count: 8, frames: 3, bitDepth: 16 as const, fullScale: 4095, drift: { contrast: 0.2 } };
    const out = join(dir, 'set');
    const progress: number[] = [];
    const written = await writeSynthDataset(out, options, 5, { onFrame: (done) => progress.push(done) });
    expect(progress).toEqual([1, 2, 3]);
    expect(written.images.map((p) => p.slice(out.length + 1))).toEqual(['images/frame-0000.png', 'images/frame-0001.png', 'images/frame-0002.png']);
    const expected = generateSynthSeries(options, new Rng(5), 'synth:seed=5');
    const truth = JSON.parse(await readFile(written.truth, 'utf8')) as SynthTruth;
    expect(truth.seed).toBe(5);
    expect(truth.options.frames).toBe(3);
    for (let i = 0; i < 3; i++) {
      const meta = await sharp(written.images[i]).metadata();
      expect([meta.format, meta.depth, meta.channels]).toEqual(['png', 'ushort', 1]);
      // Loading the written image gives the generated frame (same samples → same hash and pixels).
      const frame = await loadFrame(written.images[i]);
      expect(frame.hash).toBe(expected[i].frame.hash);
      expect(frame.hash).toBe(truth.frames[i].hash);
      expect(sameBytes(frame.pixels, expected[i].frame.pixels)).toBe(true);
      expect(sameBytes((await readLabelPng(written.labels[i])).data, expected[i].labels.data)).toBe(true);
      expect(truth.frames[i].particles).toEqual(expected[i].particles);
    }
    expect(truth.frames[2].contrast).toBeCloseTo(0.2, 9);
  });
});

describe('samstar synth (command handler)', () => {
  it('turns flags into options, writes the set and says where', async () => {
    const out = join(dir, 'cli');
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await (command.handler as (args: unknown) => Promise<void>)({
        out,
        frames: 2,
        seed: 3,
        width: 64,
        height: 48,
        count: 4,
        diameter: 9,
        polarity: 'dark',
        'drift-diameter': 12,
        _: [],
        $0: 'samstar',
      });
      expect(stdout.mock.calls.map((c) => String(c[0])).join('')).toContain(`wrote 2 frame(s) to ${out}`);
    } finally {
      stdout.mockRestore();
    }
    const truth = JSON.parse(await readFile(join(out, 'truth.json'), 'utf8')) as SynthTruth;
    expect([truth.options.width, truth.options.height, truth.options.count, truth.options.polarity]).toEqual([64, 48, 4, 'dark']);
    expect(truth.frames.map((f) => f.diameterMedian)).toEqual([9, 12]);
    expect((await loadFrame(join(out, 'images', 'frame-0001.png'))).width).toBe(64);
  });
});
