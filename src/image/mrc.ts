import { open } from 'node:fs/promises';
import { SamstarError } from '../util/errors.js';
import type { RawImage } from './samples.js';

/**
 * MRC / CCP4 maps (`.mrc`, `.mrcs`, `.map`), the electron-microscopy standard (MRC2014): a
 * 1024-byte header, an optional extended header, then nz sections of nx × ny samples, read
 * here natively. Modes 0 (int8), 1 (int16), 2 (float32), 6 (uint16) and 12 (float16).
 * Every section is a frame (z slices of a volume, or the images of a stack: ISPG 0). Rows are
 * kept in file order (row 0 of the file is row 0 of the frame). The pixel size is the cell's
 * X length over MX (Å), when the header gives one.
 *
 * Entry points: `isMrcPath`, `readMrcHeader`, `decodeMrcSection`.
 */
export interface MrcHeader {
  readonly nx: number;
  readonly ny: number;
  readonly nz: number;
  readonly mode: number;
  /** ISPG: 0 an image stack, ≥ 1 a volume. */
  readonly spaceGroup: number;
  readonly littleEndian: boolean;
  /** Byte offset of the first section. */
  readonly dataOffset: number;
  /** Nanometres per pixel along x, when the header has a cell size. */
  readonly pixelSizeNm?: number;
}

export const MRC_EXTENSIONS = ['.mrc', '.mrcs', '.map'] as const;
const BYTES: Record<number, number> = { 0: 1, 1: 2, 2: 4, 6: 2, 12: 2 };
const MODES = '0 (int8), 1 (int16), 2 (float32), 6 (uint16), 12 (float16)';

export function isMrcPath(path: string): boolean {
  const lower = path.toLowerCase();
  return MRC_EXTENSIONS.some((x) => lower.endsWith(x));
}

async function readAt(path: string, offset: number, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

export async function readMrcHeader(path: string): Promise<MrcHeader> {
  const h = await readAt(path, 0, 1024);
  const bad = (what: string): SamstarError =>
    new SamstarError('IMAGE_UNREADABLE', `${path}: not a readable MRC file (${what})`, { hint: 'check the file opens in IMOD, Fiji or mrcfile; MRC2014 files are expected' });
  if (h.length < 1024) throw bad(`${h.length} bytes, the header alone is 1024`);
  // MACHST (byte 212): 0x44 0x44/0x41 little-endian, 0x11 0x11 big-endian; old files lack it: guess from a sane mode.
  const stamp = h[212];
  let le = stamp === 0x44 || stamp === 0x41 ? true : stamp === 0x11 ? false : h.readInt32LE(12) in BYTES;
  const i32 = (o: number): number => (le ? h.readInt32LE(o) : h.readInt32BE(o));
  const f32 = (o: number): number => (le ? h.readFloatLE(o) : h.readFloatBE(o));
  if (!(i32(12) in BYTES) && (le ? h.readInt32BE(12) : h.readInt32LE(12)) in BYTES) le = !le;
  const [nx, ny, nz, mode] = [i32(0), i32(4), i32(8), i32(12)];
  if (!(mode in BYTES)) {
    throw new SamstarError('IMAGE_UNSUPPORTED', `${path}: MRC mode ${mode} is not supported; expected mode ${MODES}`, { hint: 'convert it to mode 2 (float32), e.g. with IMOD newstack -mode 2' });
  }
  if (!(nx > 0 && ny > 0 && nz > 0)) throw bad(`dimensions ${nx}×${ny}×${nz}`);
  const mx = i32(28);
  const xlen = f32(40);
  const extended = Math.max(0, i32(92));
  const pixelSizeNm = mx > 0 && Number.isFinite(xlen) && xlen > 0 ? xlen / mx / 10 : undefined;
  return { nx, ny, nz, mode, spaceGroup: i32(88), littleEndian: le, dataOffset: 1024 + extended, ...(pixelSizeNm !== undefined ? { pixelSizeNm } : {}) };
}

/** Section `index` (0-based) as one grey channel: uint16 stays uint16, every other mode becomes float. */
export async function decodeMrcSection(path: string, header: MrcHeader, index: number): Promise<RawImage> {
  const n = header.nx * header.ny;
  const size = BYTES[header.mode];
  const bytes = await readAt(path, header.dataOffset + index * n * size, n * size);
  if (bytes.length < n * size) {
    throw new SamstarError('IMAGE_UNREADABLE', `${path}: section ${index} is truncated (${bytes.length} of ${n * size} bytes)`, { hint: 'the file is shorter than its header says: was it copied completely?' });
  }
  const le = header.littleEndian;
  const data = header.mode === 6 ? new Uint16Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * size;
    switch (header.mode) {
      case 0:
        data[i] = bytes.readInt8(o);
        break;
      case 1:
        data[i] = le ? bytes.readInt16LE(o) : bytes.readInt16BE(o);
        break;
      case 2:
        data[i] = le ? bytes.readFloatLE(o) : bytes.readFloatBE(o);
        break;
      case 6:
        data[i] = le ? bytes.readUInt16LE(o) : bytes.readUInt16BE(o);
        break;
      default:
        data[i] = halfToFloat(le ? bytes.readUInt16LE(o) : bytes.readUInt16BE(o));
    }
  }
  return { width: header.nx, height: header.ny, channels: 1, data };
}

/** IEEE 754 half precision → number. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}
