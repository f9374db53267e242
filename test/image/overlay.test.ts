import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { frameFromPixels } from '../../src/image/from-pixels.js';
import { renderOverlayPng, renderOverlayRgb, writeOverlayPng } from '../../src/image/overlay.js';
import { colourOf, INSTANCE_PALETTE } from '../../src/image/palette.js';
import type { LabelImage } from '../../src/masks/types.js';

const W = 12;
const H = 9;
/** A horizontal grey ramp, stretched 0–255 by the default percentiles (values vary per column). */
const frame = frameFromPixels(
  { source: 'ramp', width: W, height: H, channels: 1, data: new Uint8Array(W * H).map((_, i) => (i % W) * 20) },
  { stretch: 'none' },
);

/**
 * Two touching rectangles (label 1 at x 1..4, y 1..5; label 2 at x 5..8, y 2..5) and a band over
 * the full width of the bottom three rows (label 3): in row-major memory the band's right edge
 * wraps onto its own left edge, so only the image-border rule makes those pixels outline.
 */
function labels(): LabelImage {
  const data = new Uint32Array(W * H);
  for (let y = 1; y <= 5; y++) for (let x = 1; x <= 4; x++) data[y * W + x] = 1;
  for (let y = 2; y <= 5; y++) for (let x = 5; x <= 8; x++) data[y * W + x] = 2;
  for (let y = 6; y < H; y++) for (let x = 0; x < W; x++) data[y * W + x] = 3;
  return { width: W, height: H, data };
}

/** Reference outline test written from the definition, independent of the renderer. */
function isOutline(l: LabelImage, x: number, y: number): boolean {
  const v = l.data[y * W + x];
  if (v === 0) return false;
  const at = (xx: number, yy: number) => (xx < 0 || yy < 0 || xx >= W || yy >= H ? -1 : l.data[yy * W + xx]);
  return at(x - 1, y) !== v || at(x + 1, y) !== v || at(x, y - 1) !== v || at(x, y + 1) !== v;
}

describe('renderOverlayRgb', () => {
  it('colours exactly the outline pixels with the label colour; everything else is the grey frame', () => {
    const l = labels();
    const rgb = renderOverlayRgb(frame, l);
    let outlines = 0;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const i = y * W + x;
        const px = [rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]];
        if (isOutline(l, x, y)) {
          outlines++;
          expect(px).toEqual([...colourOf(l.data[i])]);
        } else {
          const g = Math.round(frame.grey[i]);
          expect(px).toEqual([g, g, g]);
        }
      }
    }
    // Rect 1: 4×5 → 14 rim pixels; rect 2: 4×4 → 12; the band: top row, bottom row, and both ends of the middle row.
    expect(outlines).toBe(14 + 12 + (W + W + 2));
    // Where the rectangles touch, both sides keep their own colour.
    expect([rgb[3 * (3 * W + 4)], rgb[3 * (3 * W + 5)]]).toEqual([colourOf(1)[0], colourOf(2)[0]]);
  });

  it('palette is fixed and distinct for neighbouring labels; fill tints interiors', () => {
    expect(colourOf(1)).toEqual(INSTANCE_PALETTE[0]);
    expect(colourOf(INSTANCE_PALETTE.length + 1)).toEqual(INSTANCE_PALETTE[0]);
    expect(new Set(INSTANCE_PALETTE.map((c) => c.join(','))).size).toBe(INSTANCE_PALETTE.length);
    const l = labels();
    const inside = 3 * W + 2; // interior of rect 1
    const plain = renderOverlayRgb(frame, l);
    const filled = renderOverlayRgb(frame, l, { fill: 0.5 });
    expect(plain[3 * inside]).toBe(Math.round(frame.grey[inside]));
    expect(filled[3 * inside]).toBe(Math.round(frame.grey[inside] + 0.5 * (colourOf(1)[0] - frame.grey[inside])));
    const custom = renderOverlayRgb(frame, l, { palette: [[1, 2, 3]] });
    expect([custom[3 * (W + 1)], custom[3 * (W + 1) + 1], custom[3 * (W + 1) + 2]]).toEqual([1, 2, 3]);
  });

  it('refuses labels of another size', () => {
    expect(() => renderOverlayRgb(frame, { width: W - 1, height: H, data: new Uint32Array((W - 1) * H) })).toThrow(/11×9.*12×9/);
  });
});

describe('renderOverlayPng / writeOverlayPng', () => {
  it('writes an RGB PNG holding the rendered pixels', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'samstar-overlay-'));
    try {
      const path = join(dir, 'sub', 'overlay.png');
      await writeOverlayPng(path, frame, labels());
      const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height, info.channels]).toEqual([W, H, 3]);
      expect(Uint8Array.from(data)).toEqual(renderOverlayRgb(frame, labels()));
      expect((await renderOverlayPng(frame, labels())).subarray(1, 4).toString()).toBe('PNG');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
