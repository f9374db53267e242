import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameRefStem } from '../../src/image/frame-ref.js';
import { listFrames, loadFrame, loadFrames } from '../../src/image/load.js';
import { SamstarError } from '../../src/util/errors.js';
import { encodeTiff, greyPage, type TiffPage } from '../fixtures/tiff-writer.js';

/**
 * Stacks and channels: every page of a multi-page TIFF is a frame, channels are chosen or
 * refused, never dropped; pixel sizes come from ImageJ, OME-XML and resolution tags. Files
 * are written here (sharp for a plain stack, a byte-level encoder for the tags microscopes
 * write), and every check compares against the samples written.
 */
const W = 6;
const H = 4;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samstar-stacks-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, bytes: Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}
/** The first sample of a frame loaded without stretch (the page's marker value). */
const first = (frame: { pixels: Float32Array }): number => frame.pixels[0];
const raw = { stretch: 'none' } as const;

async function thrown(p: Promise<unknown>): Promise<SamstarError> {
  const e = await p.then(() => undefined, (error: unknown) => error);
  expect(e).toBeInstanceOf(SamstarError);
  return e as SamstarError;
}

describe('multi-page TIFF', () => {
  it('gives one frame per page (sharp-written stack), named NAME-p0003, and refuses to read it as one frame', async () => {
    const pages = Buffer.concat([10, 50, 90].map((v) => Buffer.from(greyPage(W, H, v).data)));
    const path = await write('stack.tif', await sharp(pages, { raw: { width: W, height: H * 3, channels: 1, pageHeight: H } }).toColourspace('b-w').tiff({ compression: 'lzw' }).toBuffer());
    const refs = await listFrames([path]);
    expect(refs).toEqual([`${path}#p0000`, `${path}#p0001`, `${path}#p0002`]);
    expect(refs.map(frameRefStem)).toEqual(['stack-p0000', 'stack-p0001', 'stack-p0002']);
    const frames = await loadFrames(path, raw);
    expect(frames.map(first)).toEqual([10, 50, 90]);
    expect(frames.map((f) => f.source)).toEqual(refs);
    expect(new Set(frames.map((f) => f.hash)).size).toBe(3);
    const e = await thrown(loadFrame(path));
    expect(e.code).toBe('ARGUMENT_INVALID');
    expect(e.message).toContain('3 frames');
    expect(e.hint).toContain('#p0000');
    expect((await thrown(loadFrame(`${path}#p0003`))).message).toContain('holds 3 frame');
  });

  it('reads an ImageJ hyperstack: channels need a choice, frames are time points, the µm pixel size is read', async () => {
    // channels=2 frames=3: pages in czt order, page value = 10·page + 5.
    const pages: TiffPage[] = Array.from({ length: 6 }, (_, p) => greyPage(W, H, 10 * p + 5));
    const description = 'ImageJ=1.54f\nimages=6\nchannels=2\nframes=3\nhyperstack=true\nunit=micron\n';
    const path = await write('hyper.tif', encodeTiff(pages, { description, resolution: { perUnit: 2, unit: 1 } }));
    const e = await thrown(listFrames([path]));
    expect(e.message).toContain('2 channels');
    expect(e.hint).toContain('--channel 0…1');
    const refs = await listFrames([path], { channel: 1 });
    expect(refs.map(frameRefStem)).toEqual(['hyper-t0000', 'hyper-t0001', 'hyper-t0002']);
    const frames = await loadFrames(path, { ...raw, channel: 1 });
    // frame t, channel 1 → page 2t + 1
    expect(frames.map(first)).toEqual([15, 35, 55]);
    expect(frames[0].pixelSizeNm).toBeCloseTo(500, 6);
    expect((await loadFrame(refs[2], { ...raw, channel: 0 })).pixels[0]).toBe(45);
    expect((await thrown(listFrames([path], { channel: 2 }))).message).toContain('channel 2 does not exist');
  });

  it('reads an OME-TIFF: DimensionOrder places the planes, PhysicalSizeX with its unit gives the pixel size', async () => {
    // SizeZ=2 SizeC=2, XYZCT: page = z + 2c.
    const pages: TiffPage[] = Array.from({ length: 4 }, (_, p) => greyPage(W, H, 20 * p + 1));
    const ome = `<?xml version="1.0"?><OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image ID="Image:0"><Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint8" SizeX="${W}" SizeY="${H}" SizeZ="2" SizeC="2" SizeT="1" PhysicalSizeX="325" PhysicalSizeXUnit="nm"><Channel ID="Channel:0:0"/><Channel ID="Channel:0:1"/></Pixels></Image></OME>`;
    const path = await write('cells.ome.tif', encodeTiff(pages, { description: ome }));
    const refs = await listFrames([path], { channel: 1 });
    expect(refs.map(frameRefStem)).toEqual(['cells.ome-z0000', 'cells.ome-z0001']);
    const frames = await loadFrames(path, { ...raw, channel: 1 });
    expect(frames.map(first)).toEqual([41, 61]);
    expect(frames[1].pixelSizeNm).toBeCloseTo(325, 6);
    const grey = await loadFrame(refs[1], { ...raw, channel: 0, pixelSizeNm: 100 });
    expect(first(grey)).toBe(21);
    expect(grey.pixelSizeNm).toBe(100);
  });
});

describe('channels in the samples of a page', () => {
  const twoSample = (): TiffPage => {
    const data = new Uint8Array(W * H * 2);
    for (let p = 0; p < W * H; p++) {
      data[2 * p] = 7 + (p % W);
      data[2 * p + 1] = 200 - (p % W);
    }
    return { width: W, height: H, samples: 2, data };
  };

  it('a two-channel TIFF needs --channel and gives the chosen channel exactly', async () => {
    const path = await write('two.tif', encodeTiff([twoSample()], { extraSamples: [0] }));
    const e = await thrown(loadFrame(path));
    expect(e.message).toContain('2 channels');
    const c0 = await loadFrame(path, { ...raw, channel: 0 });
    const c1 = await loadFrame(path, { ...raw, channel: 1 });
    expect(c0.channels).toBe(1);
    expect(Array.from(c0.pixels.slice(0, W))).toEqual([7, 8, 9, 10, 11, 12]);
    expect(Array.from(c1.pixels.slice(0, W))).toEqual([200, 199, 198, 197, 196, 195]);
  });

  it('a declared alpha sample is dropped, not a channel', async () => {
    const path = await write('alpha.tif', encodeTiff([twoSample()], { extraSamples: [2] }));
    const frame = await loadFrame(path, raw);
    expect(frame.channels).toBe(1);
    expect(first(frame)).toBe(7);
  });

  it('RGB stays colour without a choice; --channel picks one colour', async () => {
    const data = new Uint8Array(W * H * 3);
    for (let p = 0; p < W * H; p++) data.set([10 + p, 100, 250 - p], 3 * p);
    const path = await write('rgb.tif', encodeTiff([{ width: W, height: H, samples: 3, data }]));
    expect((await loadFrame(path, raw)).channels).toBe(3);
    const blue = await loadFrame(path, { ...raw, channel: 2 });
    expect(blue.channels).toBe(1);
    expect(Array.from(blue.pixels.slice(0, 3))).toEqual([250, 249, 248]);
  });

  it('a 16-bit channel is extracted without rescaling', async () => {
    const data = new Uint16Array(W * H * 2);
    for (let p = 0; p < W * H; p++) data.set([1000 + p, 40000 + p], 2 * p);
    const path = await write('two16.tif', encodeTiff([{ width: W, height: H, samples: 2, data }], { extraSamples: [0] }));
    const frame = await loadFrame(path, { channel: 1, stretch: 'none' });
    expect(frame.bitDepth).toBe(16);
    // 'none' maps the 16-bit container range to 0–255.
    expect(frame.pixels[0]).toBeCloseTo((40000 / 65535) * 255, 3);
  });
});

describe('pixel size from TIFF resolution tags', () => {
  it('uses centimetre resolution, ignores an editor 72 dpi default', async () => {
    const cm = await write('cm.tif', encodeTiff([greyPage(W, H, 3)], { resolution: { perUnit: 20000, unit: 3 } }));
    expect((await loadFrame(cm)).pixelSizeNm).toBeCloseTo(500, 6);
    const dpi = await write('dpi.tif', encodeTiff([greyPage(W, H, 3)], { resolution: { perUnit: 72, unit: 2 } }));
    expect((await loadFrame(dpi)).pixelSizeNm).toBeUndefined();
  });
});
