import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, encode } from 'fast-png';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLabelPng, writeLabelPng } from '../../src/masks/label-png.js';
import type { LabelImage } from '../../src/masks/types.js';
import { SamstarError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

const W = 19;
const H = 13;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samstar-labels-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function randomLabels(max: number, seed: number): LabelImage {
  const rng = new Rng(seed);
  const data = new Uint32Array(W * H).map(() => (rng.next() < 0.3 ? 0 : 1 + rng.int(max)));
  data[0] = max; // make sure the top value is present
  return { width: W, height: H, data };
}

describe('writeLabelPng / readLabelPng', () => {
  it('round-trips exactly, as a 16-bit grey PNG that sharp and fast-png both read as 16-bit', async () => {
    const label = randomLabels(65535, 1);
    const path = join(dir, 'nested', 'labels.png');
    await writeLabelPng(path, label);
    expect(await readLabelPng(path)).toEqual(label);
    const png = decode(await readFile(path));
    expect([png.depth, png.channels]).toEqual([16, 1]);
    const meta = await sharp(path).metadata();
    expect([meta.format, meta.depth, meta.channels]).toEqual(['png', 'ushort', 1]);
    const { data } = await sharp(path).toColourspace('grey16').raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true });
    const copy = Buffer.from(data);
    expect(Array.from(new Uint16Array(copy.buffer, copy.byteOffset, W * H))).toEqual(Array.from(label.data));
  });

  it('refuses labels above 65535 (LABELS_INVALID) and leaves no file behind', async () => {
    const label = randomLabels(10, 2);
    label.data[5] = 65536;
    const path = join(dir, 'too-many.png');
    const error = (await writeLabelPng(path, label).catch((e: unknown) => e)) as SamstarError;
    expect(error.code).toBe('LABELS_INVALID');
    expect(error.message).toContain('65536');
    await expect(readFile(path)).rejects.toThrow();
  });

  it('reads 8-bit PNG, 16-bit TIFF, low-bit-depth PNG and grey stored as RGB', async () => {
    const small = randomLabels(200, 3);
    const p8 = join(dir, 'l8.png');
    await sharp(Uint8Array.from(small.data), { raw: { width: W, height: H, channels: 1 } }).toColourspace('b-w').png().toFile(p8);
    expect(await readLabelPng(p8)).toEqual(small);

    const wide = randomLabels(40_000, 4);
    const tif = join(dir, 'l16.tif');
    await sharp(Uint16Array.from(wide.data), { raw: { width: W, height: H, channels: 1 } })
      .toColourspace('grey16')
      .tiff({ compression: 'lzw' })
      .toFile(tif);
    expect(await readLabelPng(tif)).toEqual(wide);

    // 2-bit grey PNG: packed 4 pixels per byte, most significant first.
    const tiny = randomLabels(3, 5);
    const rowBytes = Math.ceil(W / 4);
    const packed = new Uint8Array(rowBytes * H);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) packed[y * rowBytes + (x >> 2)] |= tiny.data[y * W + x] << (6 - 2 * (x & 3));
    const p2 = join(dir, 'l2.png');
    await writeFile(p2, encode({ width: W, height: H, data: packed, depth: 2, channels: 1 }));
    expect(await readLabelPng(p2)).toEqual(tiny);

    const rgb = new Uint8Array(W * H * 3);
    small.data.forEach((v, p) => rgb.fill(v, 3 * p, 3 * p + 3));
    const prgb = join(dir, 'grey-rgb.png');
    await sharp(rgb, { raw: { width: W, height: H, channels: 3 } }).png().toFile(prgb);
    expect(await readLabelPng(prgb)).toEqual(small);
  });

  it('refuses a coloured RGB rendering, naming the file and the pixel', async () => {
    const rgb = new Uint8Array(W * H * 3).fill(10);
    rgb[3 * 7 + 1] = 99;
    const path = join(dir, 'colour.png');
    await sharp(rgb, { raw: { width: W, height: H, channels: 3 } }).png().toFile(path);
    const error = (await readLabelPng(path).catch((e: unknown) => e)) as SamstarError;
    expect(error.code).toBe('LABELS_INVALID');
    expect(error.message).toContain(path);
    expect(error.message).toMatch(/x=7, y=0/);
  });

  it('refuses float TIFF, garbage and names a missing file', async () => {
    const tif = join(dir, 'float.tif');
    // sharp cannot write float TIFF; a 32-bit float single-strip TIFF by hand.
    await writeFile(tif, floatTiff(2, 2, [0, 1, 2, 3]));
    const floatError = (await readLabelPng(tif).catch((e: unknown) => e)) as SamstarError;
    expect(floatError.code).toBe('LABELS_INVALID');
    expect(floatError.message).toMatch(/float/);
    expect(floatError.message).toContain(tif);

    const junk = join(dir, 'junk.png');
    await writeFile(junk, 'not a png');
    const junkError = (await readLabelPng(junk).catch((e: unknown) => e)) as SamstarError;
    expect(junkError.code).toBe('LABELS_INVALID');
    expect(junkError.message).toContain(junk);

    const missing = join(dir, 'missing.png');
    const missingError = (await readLabelPng(missing).catch((e: unknown) => e)) as SamstarError;
    expect(missingError.code).toBe('IMAGE_NOT_FOUND');
    expect(missingError.message).toContain(missing);
  });
});

function floatTiff(width: number, height: number, values: number[]): Buffer {
  const pixels = Float32Array.from(values);
  const tags: [number, number, number][] = [
    [256, 4, width], [257, 4, height], [258, 3, 32], [259, 3, 1], [262, 3, 1],
    [273, 4, 0], [277, 3, 1], [278, 4, height], [279, 4, pixels.byteLength], [339, 3, 3],
  ];
  const offset = 8 + 2 + tags.length * 12 + 4;
  tags[5][2] = offset;
  const b = Buffer.alloc(offset + pixels.byteLength);
  b.write('II', 0, 'latin1');
  b.writeUInt16LE(42, 2);
  b.writeUInt32LE(8, 4);
  b.writeUInt16LE(tags.length, 8);
  tags.forEach(([tag, type, value], k) => {
    b.writeUInt16LE(tag, 10 + 12 * k);
    b.writeUInt16LE(type, 12 + 12 * k);
    b.writeUInt32LE(1, 14 + 12 * k);
    if (type === 3) b.writeUInt16LE(value, 18 + 12 * k);
    else b.writeUInt32LE(value, 18 + 12 * k);
  });
  Buffer.from(pixels.buffer).copy(b, offset);
  return b;
}
