import { open } from 'node:fs/promises';

/**
 * The few TIFF tags of the first page that sharp does not report and samstar needs:
 * the ImageDescription (where ImageJ and OME-TIFF write the stack's channels, slices,
 * time points and physical pixel size), the resolution tags, and ExtraSamples (whether
 * a second sample is alpha or a signal channel). Pixel data is left to sharp.
 *
 * Entry point: `readTiffTags(file or bytes)`; classic TIFF and BigTIFF, either byte order.
 * Returns undefined for data that is not TIFF.
 */
export interface TiffTags {
  readonly samplesPerPixel: number;
  /** 0/1 grey, 2 RGB, 3 palette… (TIFF Photometric). */
  readonly photometric?: number;
  /** Tag 338 per extra sample: 0 unspecified (signal), 1 associated alpha, 2 unassociated alpha. */
  readonly extraSamples: readonly number[];
  readonly description?: string;
  /** Pixels per resolution unit. */
  readonly xResolution?: number;
  /** 1 none, 2 inch, 3 centimetre. */
  readonly resolutionUnit?: number;
}

type ReadAt = (offset: number, length: number) => Promise<Buffer>;

const TAG = { photometric: 262, description: 270, samples: 277, xres: 282, resUnit: 296, extra: 338 } as const;
// Bytes per value of each TIFF field type (1 BYTE … 16 LONG8/IFD8).
const TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8 };
/** An ImageDescription longer than this (OME-XML of a huge plate) is cut: only its first part is read. */
const MAX_DESCRIPTION = 4 * 1024 * 1024;

export async function readTiffTags(input: string | Uint8Array): Promise<TiffTags | undefined> {
  if (typeof input !== 'string') {
    const bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    return parse(async (offset, length) => bytes.subarray(offset, offset + length));
  }
  const handle = await open(input, 'r');
  try {
    return await parse(async (offset, length) => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      return buffer.subarray(0, bytesRead);
    });
  } finally {
    await handle.close();
  }
}

async function parse(readAt: ReadAt): Promise<TiffTags | undefined> {
  const head = await readAt(0, 16);
  if (head.length < 8) return undefined;
  const order = head.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return undefined;
  const le = order === 'II';
  const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const u64 = (b: Buffer, o: number) => Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
  const magic = u16(head, 2);
  if (magic !== 42 && magic !== 43) return undefined;
  const big = magic === 43;
  const ifd = big ? u64(head, 8) : u32(head, 4);
  const countSize = big ? 8 : 2;
  const entrySize = big ? 20 : 12;
  const countBytes = await readAt(ifd, countSize);
  if (countBytes.length < countSize) return undefined;
  const count = big ? u64(countBytes, 0) : u16(countBytes, 0);
  const entries = await readAt(ifd + countSize, count * entrySize);
  const values = new Map<number, { type: number; n: number; at: number; inline: Buffer }>();
  for (let i = 0; i < count && (i + 1) * entrySize <= entries.length; i++) {
    const e = i * entrySize;
    const tag = u16(entries, e);
    if (!(Object.values(TAG) as number[]).includes(tag)) continue;
    const type = u16(entries, e + 2);
    const n = big ? u64(entries, e + 4) : u32(entries, e + 4);
    const field = entries.subarray(e + (big ? 12 : 8), e + entrySize);
    values.set(tag, { type, n, at: big ? u64(field, 0) : u32(field, 0), inline: field });
  }
  const bytesOf = async (tag: number, limit = Infinity): Promise<Buffer | undefined> => {
    const v = values.get(tag);
    if (!v || !TYPE_SIZE[v.type]) return undefined;
    const size = Math.min(limit, v.n * TYPE_SIZE[v.type]);
    return size <= v.inline.length ? v.inline.subarray(0, size) : readAt(v.at, size);
  };
  const ints = async (tag: number): Promise<number[]> => {
    const v = values.get(tag);
    const b = await bytesOf(tag);
    if (!v || !b) return [];
    const width = TYPE_SIZE[v.type];
    const out: number[] = [];
    for (let o = 0; o + width <= b.length; o += width) out.push(width === 1 ? b[o] : width === 2 ? u16(b, o) : u32(b, o));
    return out;
  };
  const rational = async (tag: number): Promise<number | undefined> => {
    const b = await bytesOf(tag);
    if (!b || b.length < 8) return undefined;
    const den = u32(b, 4);
    return den === 0 ? undefined : u32(b, 0) / den;
  };
  const text = await bytesOf(TAG.description, MAX_DESCRIPTION);
  const description = text?.toString('utf8').replace(/\0+$/, '');
  const xResolution = await rational(TAG.xres);
  const resolutionUnit = (await ints(TAG.resUnit))[0];
  const photometric = (await ints(TAG.photometric))[0];
  return {
    samplesPerPixel: (await ints(TAG.samples))[0] ?? 1,
    extraSamples: await ints(TAG.extra),
    ...(photometric !== undefined ? { photometric } : {}),
    ...(description ? { description } : {}),
    ...(xResolution !== undefined && Number.isFinite(xResolution) && xResolution > 0 ? { xResolution } : {}),
    ...(resolutionUnit !== undefined ? { resolutionUnit } : {}),
  };
}
