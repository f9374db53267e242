import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listFrames, loadFrame } from '../../src/image/load.js';
import { decodeMrcSection, readMrcHeader } from '../../src/image/mrc.js';
import { SamstarError } from '../../src/util/errors.js';

/**
 * MRC2014 files written byte by byte here (header fields at their spec offsets), read back
 * by the loader: every mode samstar promises, both byte orders, the cell size as pixel size,
 * sections as frames.
 */
const dir = mkdtempSync(join(tmpdir(), 'samstar-mrc-'));
const NX = 5;
const NY = 3;

function writeMrc(name: string, mode: number, sections: number[][], options: { bigEndian?: boolean; ispg?: number; cellA?: number; extended?: number } = {}): string {
  const size = { 0: 1, 1: 2, 2: 4, 6: 2 }[mode]!;
  const le = !options.bigEndian;
  const extended = options.extended ?? 0;
  const header = Buffer.alloc(1024);
  const i32 = (o: number, v: number) => (le ? header.writeInt32LE(v, o) : header.writeInt32BE(v, o));
  const f32 = (o: number, v: number) => (le ? header.writeFloatLE(v, o) : header.writeFloatBE(v, o));
  [NX, NY, sections.length, mode].forEach((v, i) => i32(4 * i, v));
  [NX, NY, sections.length].forEach((v, i) => i32(28 + 4 * i, v));
  [options.cellA ?? 0, options.cellA ?? 0, sections.length].forEach((v, i) => f32(40 + 4 * i, v));
  i32(88, options.ispg ?? 0);
  i32(92, extended);
  header.write('MAP ', 208, 'latin1');
  header.set(le ? [0x44, 0x44, 0, 0] : [0x11, 0x11, 0, 0], 212);
  const data = Buffer.alloc(sections.length * NX * NY * size);
  sections.flat().forEach((v, i) => {
    const o = i * size;
    if (mode === 0) data.writeInt8(v, o);
    else if (mode === 1) le ? data.writeInt16LE(v, o) : data.writeInt16BE(v, o);
    else if (mode === 2) le ? data.writeFloatLE(v, o) : data.writeFloatBE(v, o);
    else le ? data.writeUInt16LE(v, o) : data.writeUInt16BE(v, o);
  });
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([header, Buffer.alloc(extended, 7), data]));
  return path;
}

const section = (base: number, step: number): number[] => Array.from({ length: NX * NY }, (_, i) => base + step * i);

describe('MRC', () => {
  it.each([
    [0, section(-100, 13), false],
    [1, section(-3000, 411), false],
    [2, section(-1.5, 0.37), false],
    [6, section(100, 4000), false],
    [1, section(-3000, 411), true],
    [2, section(2.25, -0.5), true],
  ] as const)('mode %i reads the samples exactly (big-endian: %s)', async (mode, values, bigEndian) => {
    const path = writeMrc(`m${mode}${bigEndian ? 'be' : ''}.mrc`, mode, [values as number[]], { bigEndian });
    const header = await readMrcHeader(path);
    expect([header.nx, header.ny, header.nz, header.mode]).toEqual([NX, NY, 1, mode]);
    const raw = await decodeMrcSection(path, header, 0);
    expect(raw.data).toBeInstanceOf(mode === 6 ? Uint16Array : Float32Array);
    expect(Array.from(raw.data)).toEqual(values.map((v) => (mode === 2 ? Math.fround(v) : v)));
    const frame = await loadFrame(path);
    expect([frame.width, frame.height, frame.channels]).toEqual([NX, NY, 1]);
  });

  it('mode 12 (float16) decodes half floats exactly', async () => {
    // 1.5, −2, 0.25, 65504 (largest half), 2⁻²⁴ (smallest subnormal), 0, then zeros.
    const halves = [0x3e00, 0xc000, 0x3400, 0x7bff, 0x0001, 0x0000];
    const path = writeMrc('m12.mrc', 6, [[...halves, ...Array(NX * NY - halves.length).fill(0)]]);
    const bytes = readFileSync(path);
    bytes.writeInt32LE(12, 12);
    writeFileSync(path, bytes);
    const raw = await decodeMrcSection(path, await readMrcHeader(path), 0);
    expect(Array.from(raw.data.slice(0, 6))).toEqual([1.5, -2, 0.25, 65504, 2 ** -24, 0]);
  });

  it('a volume gives one frame per section (z), skips the extended header, reads the pixel size from the cell', async () => {
    const path = writeMrc('vol.mrc', 2, [section(0, 1), section(50, 2), section(90, -1)], { ispg: 1, cellA: NX * 8.5, extended: 96 });
    const refs = await listFrames([path]);
    expect(refs).toEqual([`${path}#z0000`, `${path}#z0001`, `${path}#z0002`]);
    const frames = await Promise.all(refs.map((r) => loadFrame(r, { stretch: 'none' })));
    expect(frames.map((f) => f.bitDepth)).toEqual([32, 32, 32]);
    expect(frames[1].pixelSizeNm).toBeCloseTo(0.85, 6);
    const raw = await decodeMrcSection(path, await readMrcHeader(path), 2);
    expect(raw.data[0]).toBe(90);
    expect(raw.data[NX * NY - 1]).toBe(90 - (NX * NY - 1));
  });

  it('an unknown mode and a truncated file are refused with clear messages', async () => {
    const path = writeMrc('m3.mrc', 2, [section(0, 1)]);
    const bytes = readFileSync(path);
    bytes.writeInt32LE(3, 12);
    writeFileSync(join(dir, 'mode3.mrc'), bytes);
    const e = await loadFrame(join(dir, 'mode3.mrc')).catch((error: unknown) => error);
    expect(e).toBeInstanceOf(SamstarError);
    expect((e as SamstarError).message).toContain('MRC mode 3');
    writeFileSync(join(dir, 'short.mrc'), bytes.subarray(0, 1030).fill(2, 12, 13));
    const t = await loadFrame(join(dir, 'short.mrc')).catch((error: unknown) => error);
    expect((t as SamstarError).message).toContain('truncated');
  });
});
