import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadFrame } from '../../src/image/load.js';

/**
 * The loader on the real development sets in ../shared/data (not part of the
 * repository). Where they are absent (a user's machine) the suite is skipped,
 * and says so.
 */
const DATA = fileURLToPath(new URL('../../../shared/data', import.meta.url));
const present = existsSync(DATA);
if (!present) console.warn(`[real-data] skipped: no real data at ${DATA} (expected the shared data sets there)`);

function first(folder: string): string {
  const dir = join(DATA, folder);
  return join(dir, readdirSync(dir).sort()[0]);
}

/** Samples decoded independently of the loader (sharp, first channel) and their numpy-style percentiles from a full sort. */
async function reference(path: string): Promise<{ values: Float64Array; lo: number; hi: number }> {
  const meta = await sharp(path, { failOn: 'none' }).metadata();
  const wide = meta.depth === 'ushort';
  const { data } = await sharp(path, { failOn: 'none' })
    .extractChannel(0)
    .toColourspace(wide ? 'grey16' : 'b-w')
    .raw({ depth: wide ? 'ushort' : 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const copy = Buffer.from(data);
  const values = Float64Array.from(wide ? new Uint16Array(copy.buffer, copy.byteOffset, copy.length / 2) : copy);
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => {
    const r = (p / 100) * (sorted.length - 1);
    const k = Math.floor(r);
    return k + 1 < sorted.length ? sorted[k] + (r - k) * (sorted[k + 1] - sorted[k]) : sorted[k];
  };
  return { values, lo: at(0.5), hi: at(99.5) };
}

const sets: { name: string; folder: string; width?: number; height?: number; bitDepth: number }[] = [
  { name: 'BBBC039 16-bit TIFF (12-bit data)', folder: 'bbbc039/images', width: 696, height: 520, bitDepth: 16 },
  { name: 'DSB2018 RGB PNG holding grey', folder: 'dsb2018/images', bitDepth: 8 },
  { name: 'STEM nanoparticles JPEG', folder: 'stem-nanoparticles/images', bitDepth: 8 },
  { name: 'time-lapse phase 8-bit PNG', folder: 'timelapse-phase/frames', width: 234, height: 234, bitDepth: 8 },
  { name: 'time-lapse nuclei 16-bit PNG', folder: 'timelapse-nuclei/frames', width: 200, height: 200, bitDepth: 16 },
];

describe.skipIf(!present)('loadFrame on the real data sets (../shared/data)', () => {
  for (const set of sets) {
    it(`${set.name}: grey, shape, bit depth; 0.5/99.5 percentiles map to 0/255`, async () => {
      const path = first(set.folder);
      const frame = await loadFrame(path);
      expect(frame.channels).toBe(1);
      expect(frame.bitDepth).toBe(set.bitDepth);
      if (set.width) expect([frame.width, frame.height]).toEqual([set.width, set.height]);
      const { values, lo, hi } = await reference(path);
      expect(values.length).toBe(frame.width * frame.height);
      expect(hi).toBeGreaterThan(lo);
      let worst = 0;
      for (let i = 0; i < values.length; i += 7) {
        const want = Math.min(255, Math.max(0, ((values[i] - lo) / (hi - lo)) * 255));
        worst = Math.max(worst, Math.abs(frame.pixels[i] - want));
      }
      expect(worst).toBeLessThan(1e-3);
      // At least 0.5 % of the pixels sit at each end, and the frame uses the whole range.
      const n = frame.pixels.length;
      expect(frame.pixels.filter((v) => v === 0).length).toBeGreaterThanOrEqual(Math.floor(0.005 * n) - 1);
      expect(frame.pixels.filter((v) => v === 255).length).toBeGreaterThanOrEqual(Math.floor(0.005 * n) - 1);
    });
  }

  it('BBBC039 holds 12-bit data: the stretch uses its range, far below 65535', async () => {
    const { hi } = await reference(first('bbbc039/images'));
    expect(hi).toBeLessThan(4096);
  });
});
