import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameFromPixels, loadFrame } from '../../src/image/load.js';
import { SamstarError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

/**
 * The loader on files written here with sharp: every container and sample type
 * it promises, checked against the samples we wrote (not against its own output).
 */

const W = 23;
const H = 17;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samstar-load-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Random samples with a guaranteed full spread so percentiles are meaningful. */
function samples(n: number, depth: 8 | 16, seed: number): Uint8Array | Uint16Array {
  const rng = new Rng(seed);
  const max = depth === 8 ? 255 : 65535;
  const out = depth === 8 ? new Uint8Array(n) : new Uint16Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(max + 1);
  return out;
}

async function writeImage(name: string, data: Uint8Array | Uint16Array, channels: 1 | 2 | 3 | 4, format: 'png' | 'tiff' | 'jpeg'): Promise<string> {
  const wide = data instanceof Uint16Array;
  const space = channels >= 3 ? (wide ? 'rgb16' : 'srgb') : wide ? 'grey16' : 'b-w';
  const image = sharp(data, { raw: { width: W, height: H, channels } }).toColourspace(space);
  const buffer = await (format === 'png' ? image.png() : format === 'tiff' ? image.tiff({ compression: 'lzw' }) : image.jpeg({ quality: 95 })).toBuffer();
  const path = join(dir, name);
  await writeFile(path, buffer);
  return path;
}

/** numpy-style linear percentile on a sorted copy: the independent reference. */
function percentile(values: ArrayLike<number>, p: number): number {
  const s = Float64Array.from(values).sort();
  const r = (p / 100) * (s.length - 1);
  const k = Math.floor(r);
  return k + 1 < s.length ? s[k] + (r - k) * (s[k + 1] - s[k]) : s[k];
}

function expectStretched(pixels: Float32Array, expectedRaw: ArrayLike<number>, low = 0.5, high = 99.5): void {
  const lo = percentile(expectedRaw, low);
  const hi = percentile(expectedRaw, high);
  expect(hi).toBeGreaterThan(lo);
  expect(pixels.length).toBe(expectedRaw.length);
  for (let i = 0; i < pixels.length; i++) {
    const want = Math.min(255, Math.max(0, ((expectedRaw[i] - lo) / (hi - lo)) * 255));
    if (Math.abs(pixels[i] - want) > 1e-3) throw new Error(`pixel ${i}: got ${pixels[i]}, want ${want} (raw ${expectedRaw[i]})`);
  }
}

/** Pick channel c of interleaved data. */
function channel(data: ArrayLike<number>, channels: number, c: number): number[] {
  const out: number[] = [];
  for (let i = c; i < data.length; i += channels) out.push(data[i]);
  return out;
}

describe('loadFrame on generated files', () => {
  for (const format of ['png', 'tiff'] as const) {
    for (const depth of [8, 16] as const) {
      it(`${format} ${depth}-bit grey: shape, bit depth, percentile stretch`, async () => {
        const raw = samples(W * H, depth, 1);
        const frame = await loadFrame(await writeImage(`g${depth}.${format}`, raw, 1, format));
        expect([frame.width, frame.height, frame.channels, frame.bitDepth]).toEqual([W, H, 1, depth]);
        expectStretched(frame.pixels, raw);
        expect(frame.grey).toEqual(frame.pixels);
      });

      it(`${format} ${depth}-bit RGB with different channels stays colour; grey = channel mean`, async () => {
        const raw = samples(W * H * 3, depth, 2);
        const frame = await loadFrame(await writeImage(`rgb${depth}.${format}`, raw, 3, format));
        expect([frame.channels, frame.bitDepth]).toEqual([3, depth]);
        expectStretched(frame.pixels, raw); // one stretch over all channels keeps the colour balance
        const p = 5;
        expect(frame.grey[p]).toBeCloseTo((frame.pixels[3 * p] + frame.pixels[3 * p + 1] + frame.pixels[3 * p + 2]) / 3, 4);
      });

      it(`${format} ${depth}-bit RGBA: alpha dropped`, async () => {
        const raw = samples(W * H * 4, depth, 3);
        const frame = await loadFrame(await writeImage(`rgba${depth}.${format}`, raw, 4, format));
        expect(frame.channels).toBe(3);
        const rgb: number[] = [];
        for (let i = 0; i < raw.length; i += 4) rgb.push(raw[i], raw[i + 1], raw[i + 2]);
        expectStretched(frame.pixels, rgb);
      });
    }
  }

  it('grey stored as RGB (equal channels) and grey+alpha both load as one grey channel', async () => {
    const grey = samples(W * H, 8, 4);
    const rgb = new Uint8Array(W * H * 3);
    const ga = new Uint8Array(W * H * 2);
    for (let p = 0; p < W * H; p++) {
      rgb.fill(grey[p], 3 * p, 3 * p + 3);
      ga[2 * p] = grey[p];
      ga[2 * p + 1] = p % 256;
    }
    const a = await loadFrame(await writeImage('grey-as-rgb.png', rgb, 3, 'png'));
    const b = await loadFrame(await writeImage('grey-alpha.png', ga, 2, 'png'));
    const c = await loadFrame(await writeImage('grey.png', grey, 1, 'png'));
    expect(a.channels).toBe(1);
    expect(b.channels).toBe(1);
    expectStretched(a.pixels, grey);
    // The same content gives the same hash whatever the container layout.
    expect(a.hash).toBe(c.hash);
    expect(b.hash).toBe(c.hash);
  });

  it('12-bit data in a 16-bit file is stretched by its own range, not by 65535', async () => {
    const raw = samples(W * H, 16, 5).map((v) => v % 4096);
    const frame = await loadFrame(await writeImage('twelve.tiff', raw, 1, 'tiff'));
    expect(frame.bitDepth).toBe(16);
    expectStretched(frame.pixels, raw);
    const bright = frame.pixels.filter((v) => v > 200).length;
    expect(bright).toBeGreaterThan(W * H * 0.1);
  });

  it('JPEG grey and colour: 8-bit, shape, close to the written values after stretch', async () => {
    // A smooth gradient survives JPEG almost exactly, so the stretch can be checked loosely.
    const grey = new Uint8Array(W * H);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) grey[y * W + x] = 40 + Math.round((x / (W - 1)) * 150);
    const frame = await loadFrame(await writeImage('g.jpg', grey, 1, 'jpeg'));
    expect([frame.width, frame.height, frame.channels, frame.bitDepth]).toEqual([W, H, 1, 8]);
    expect(frame.pixels[0 * W + 0]).toBeLessThan(10);
    expect(frame.pixels[5 * W + W - 1]).toBeGreaterThan(245);
    expect(Math.abs(frame.pixels[8 * W + 11] - 127.5)).toBeLessThan(15);

    const rgb = new Uint8Array(W * H * 3);
    for (let p = 0; p < W * H; p++) rgb.set([200, 30, grey[p]], 3 * p);
    const colour = await loadFrame(await writeImage('c.jpg', rgb, 3, 'jpeg'));
    expect(colour.channels).toBe(3);
    expect(colour.pixels[0]).toBeGreaterThan(colour.pixels[1] + 100); // red stays red
  });

  it("stretch 'none' keeps the container scale; custom percentiles are honoured", async () => {
    const raw = samples(W * H, 16, 6);
    const path = await writeImage('none.png', raw, 1, 'png');
    const none = await loadFrame(path, { stretch: 'none' });
    expect(none.pixels[7]).toBeCloseTo(raw[7] / 257, 3);
    const wide = await loadFrame(path, { stretch: { low: 5, high: 95 } });
    expectStretched(wide.pixels, raw, 5, 95);
    // Different stretch → different pixels → a different hash (caches must not mix them).
    expect(new Set([none.hash, wide.hash, (await loadFrame(path)).hash]).size).toBe(3);
  });

  it('float TIFF (ImageJ-style 32-bit) loads as float, bit depth 32', async () => {
    const values = new Float32Array(W * H).map((_, i) => Math.sin(i) * 1000 - 3.5);
    const path = join(dir, 'float.tif');
    await writeFile(path, floatTiff(values, W, H));
    const frame = await loadFrame(path);
    expect([frame.width, frame.height, frame.channels, frame.bitDepth]).toEqual([W, H, 1, 32]);
    const lo = percentile(values, 0.5);
    const hi = percentile(values, 99.5);
    // Float percentiles come from a 65536-bin histogram: within a bin width of the sorted reference.
    for (const i of [0, 10, 100, 300]) {
      const want = Math.min(255, Math.max(0, ((values[i] - lo) / (hi - lo)) * 255));
      expect(Math.abs(frame.pixels[i] - want)).toBeLessThan(0.1);
    }
    expect(frameFromPixels({ source: 'mem', width: W, height: H, channels: 1, data: values }).hash).toBe(frame.hash);
  });
});

describe('hash', () => {
  it('is stable across loads and renames, and changes with one sample', async () => {
    const raw = samples(W * H, 8, 7);
    const a = await loadFrame(await writeImage('h1.png', raw, 1, 'png'));
    const b = await loadFrame(await writeImage('h2.tiff', raw, 1, 'tiff'));
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(b.hash).toBe(a.hash);
    const changed = Uint8Array.from(raw);
    changed[100] ^= 1;
    const c = await loadFrame(await writeImage('h3.png', changed, 1, 'png'));
    expect(c.hash).not.toBe(a.hash);
  });

  it('depends on the shape and bit depth, not only the bytes', () => {
    const bytes = new Uint8Array(24).map((_, i) => i * 7);
    const base = { source: 's', channels: 1 } as const;
    const h = (w: number, h2: number, data: Uint8Array | Uint16Array) => frameFromPixels({ ...base, width: w, height: h2, data }).hash;
    expect(h(6, 4, bytes)).not.toBe(h(4, 6, bytes));
    expect(h(6, 4, bytes)).not.toBe(h(3, 4, new Uint16Array(bytes.buffer)));
    expect(frameFromPixels({ ...base, source: 'other', width: 6, height: 4, data: bytes }).hash).toBe(h(6, 4, bytes));
  });
});

describe('frameFromPixels', () => {
  it('matches loadFrame on the same samples, and checks its input', async () => {
    const raw = samples(W * H * 3, 16, 8);
    const fromFile = await loadFrame(await writeImage('mem.png', raw, 3, 'png'));
    const fromMemory = frameFromPixels({ source: 'mem', width: W, height: H, channels: 3, data: raw });
    expect(fromMemory.hash).toBe(fromFile.hash);
    expect(fromMemory.pixels).toEqual(fromFile.pixels);
    expect(fromMemory.source).toBe('mem');
    expect(() => frameFromPixels({ source: 'bad', width: W, height: H, channels: 3, data: raw.subarray(1) })).toThrow(/bad.*samples/);
    expect(() => frameFromPixels({ source: 'bad', width: 0, height: H, channels: 1, data: new Uint8Array(0) })).toThrow(SamstarError);
    const nan = new Float32Array(4).fill(1);
    nan[2] = Number.NaN;
    expect(() => frameFromPixels({ source: 'nan', width: 2, height: 2, channels: 1, data: nan })).toThrow(/nan.*NaN/);
    expect(() => frameFromPixels({ source: 'p', width: 2, height: 2, channels: 1, data: new Uint8Array(4) }, { stretch: { low: 50, high: 10 } })).toThrow(
      /low < high/,
    );
  });

  it('a constant image gives zeros (no division by zero), not NaN', () => {
    const frame = frameFromPixels({ source: 'flat', width: 8, height: 8, channels: 1, data: new Uint16Array(64).fill(1234) });
    expect(frame.pixels.every((v) => v === 0)).toBe(true);
  });
});

describe('loader errors name the file', () => {
  it('missing file → IMAGE_NOT_FOUND', async () => {
    const path = join(dir, 'does-not-exist.png');
    const error = await loadFrame(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SamstarError);
    expect((error as SamstarError).code).toBe('IMAGE_NOT_FOUND');
    expect((error as SamstarError).message).toContain(path);
  });

  it('garbage bytes → IMAGE_UNSUPPORTED, listing the supported formats and what sharp said', async () => {
    const path = join(dir, 'garbage.png');
    await writeFile(path, Buffer.from('this is not an image at all'));
    const error = (await loadFrame(path).catch((e: unknown) => e)) as SamstarError;
    expect(error.code).toBe('IMAGE_UNSUPPORTED');
    expect(error.message).toContain(path);
    expect(error.message).toMatch(/PNG, JPEG or TIFF/);
    expect(error.message).toMatch(/sharp: /);
  });

  it('a truncated PNG → IMAGE_UNREADABLE naming the path', async () => {
    const good = await writeImage('whole.png', samples(W * H, 8, 9), 1, 'png');
    const bytes = await readFile(good);
    const path = join(dir, 'truncated.png');
    await writeFile(path, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const error = (await loadFrame(path).catch((e: unknown) => e)) as SamstarError;
    expect(error).toBeInstanceOf(SamstarError);
    expect(['IMAGE_UNREADABLE', 'IMAGE_UNSUPPORTED']).toContain(error.code);
    expect(error.message).toContain(path);
  });

  it('a format sharp reads but samstar does not (WebP) → IMAGE_UNSUPPORTED', async () => {
    const path = join(dir, 'x.webp');
    await sharp(samples(W * H * 3, 8, 10), { raw: { width: W, height: H, channels: 3 } }).webp({ lossless: true }).toFile(path);
    const error = (await loadFrame(path).catch((e: unknown) => e)) as SamstarError;
    expect(error.code).toBe('IMAGE_UNSUPPORTED');
    expect(error.message).toContain(path);
    expect(error.message).toContain('webp');
  });

  it('a directory → IMAGE_UNREADABLE', async () => {
    const error = (await loadFrame(dir).catch((e: unknown) => e)) as SamstarError;
    expect(error.code).toBe('IMAGE_UNREADABLE');
    expect(error.message).toContain(dir);
  });
});

/** A minimal little-endian, uncompressed, single-strip float32 grey TIFF (sharp cannot write float TIFF). */
function floatTiff(values: Float32Array, width: number, height: number): Buffer {
  const tags: [number, number, number][] = [
    [256, 4, width], // ImageWidth
    [257, 4, height], // ImageLength
    [258, 3, 32], // BitsPerSample
    [259, 3, 1], // Compression: none
    [262, 3, 1], // Photometric: BlackIsZero
    [273, 4, 0], // StripOffsets (patched below)
    [277, 3, 1], // SamplesPerPixel
    [278, 4, height], // RowsPerStrip
    [279, 4, values.byteLength], // StripByteCounts
    [339, 3, 3], // SampleFormat: IEEE float
  ];
  const ifdSize = 2 + tags.length * 12 + 4;
  const dataOffset = 8 + ifdSize;
  tags[5][2] = dataOffset;
  const buffer = Buffer.alloc(dataOffset + values.byteLength);
  buffer.write('II', 0, 'latin1');
  buffer.writeUInt16LE(42, 2);
  buffer.writeUInt32LE(8, 4);
  buffer.writeUInt16LE(tags.length, 8);
  tags.forEach(([tag, type, value], k) => {
    const at = 10 + 12 * k;
    buffer.writeUInt16LE(tag, at);
    buffer.writeUInt16LE(type, at + 2);
    buffer.writeUInt32LE(1, at + 4);
    if (type === 3) buffer.writeUInt16LE(value, at + 8);
    else buffer.writeUInt32LE(value, at + 8);
  });
  buffer.writeUInt32LE(0, 10 + 12 * tags.length);
  Buffer.from(values.buffer, values.byteOffset, values.byteLength).copy(buffer, dataOffset);
  return buffer;
}
