import { describe, expect, it } from 'vitest';
import { generateSynthFrame } from '../../src/data/synth.js';
import type { Frame } from '../../src/image/frame.js';
import { encodeRle } from '../../src/masks/rle.js';
import type { BinaryMask, LabelImage } from '../../src/masks/types.js';
import { measure, measureLabels, measureMasks } from '../../src/measure/measure.js';
import type { InstanceMeasurement } from '../../src/measure/types.js';
import { SamstarError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { segmentationFromLabels } from '../rewards/helpers.js';

function blank(width: number, height: number): LabelImage {
  return { width, height, data: new Uint32Array(width * height) };
}

function paint(label: LabelImage, value: number, inside: (r: number, c: number) => boolean): LabelImage {
  for (let r = 0; r < label.height; r++) for (let c = 0; c < label.width; c++) if (inside(r, c)) label.data[r * label.width + c] = value;
  return label;
}

function only(label: LabelImage): InstanceMeasurement {
  const m = measureLabels(label).instances;
  expect(m).toHaveLength(1);
  return m[0];
}

function greyFrame(width: number, height: number, value: (r: number, c: number) => number): Frame {
  const grey = new Float32Array(width * height);
  for (let r = 0; r < height; r++) for (let c = 0; c < width; c++) grey[r * width + c] = value(r, c);
  return { source: 'test', width, height, channels: 1, pixels: grey, grey, hash: 'test', bitDepth: 8 };
}

/** Values from skimage 0.19.3 regionprops on the same shapes (see the comment on each). */
describe('shape measurements on hand-made shapes', () => {
  it('a 5×8 rectangle', () => {
    const m = only(paint(blank(20, 20), 1, (r, c) => r >= 3 && r < 8 && c >= 4 && c < 12));
    expect(m.area).toBe(40);
    expect(m.bbox).toEqual([3, 4, 8, 12]);
    expect(m.centroid).toEqual([5, 7.5]);
    expect(m.perimeter).toBe(22);
    expect(m.convex_area).toBe(40);
    expect(m.solidity).toBe(1);
    expect(m.major_axis_length).toBeCloseTo(9.16515138991168, 12);
    expect(m.minor_axis_length).toBeCloseTo(5.656854249492381, 12);
    expect(m.eccentricity).toBeCloseTo(0.7867957924694432, 12);
    expect(Math.abs(m.orientation)).toBeCloseTo(Math.PI / 2, 12);
    expect(m.circularity).toBeCloseTo((4 * Math.PI * 40) / 22 ** 2, 12);
    expect(m.aspect_ratio).toBeCloseTo(9.16515138991168 / 5.656854249492381, 12);
    expect(m.touches_border).toBe(false);
  });

  it('a digital disc of radius 6: the hull of edge midpoints makes solidity < 1, as in skimage', () => {
    const m = only(paint(blank(20, 20), 1, (r, c) => (r - 9.5) ** 2 + (c - 9.5) ** 2 <= 36));
    expect(m.area).toBe(112);
    expect(m.perimeter).toBeCloseTo(36.970562748477136, 12);
    expect(m.convex_area).toBe(120);
    expect(m.eccentricity).toBeCloseTo(0, 6);
    expect(m.major_axis_length).toBeCloseTo(11.92835756865606, 10);
  });

  it('an L shape, a single pixel, a diagonal line, a ring', () => {
    const l = only(paint(blank(20, 20), 1, (r, c) => (r >= 2 && r < 10 && c >= 2 && c < 5) || (r >= 7 && r < 10 && c >= 2 && c < 12)));
    expect([l.area, l.convex_area]).toEqual([45, 60]);
    expect(l.perimeter).toBeCloseTo(31.414213562373096, 12);
    expect(l.orientation).toBeCloseTo(1.058225690660944, 12);

    const p = only(paint(blank(5, 5), 1, (r, c) => r === 2 && c === 2));
    expect([p.area, p.perimeter, p.convex_area, p.major_axis_length, p.eccentricity]).toEqual([1, 0, 1, 0, 0]);
    expect(p.circularity).toBe(0);
    expect(p.aspect_ratio).toBe(1);

    const d = only(paint(blank(20, 20), 1, (r, c) => r >= 5 && r < 15 && c === r - 2));
    expect([d.area, d.convex_area, d.minor_axis_length, d.eccentricity]).toEqual([10, 10, 0, 1]);
    expect(d.perimeter).toBeCloseTo(11.313708498984761, 12);
    // skimage says −π/4 here: var_r = var_c exactly sends it down its a == c branch, which has the
    // opposite sign of its own formula's limit (see src/measure/moments.ts). We give the limit.
    expect(d.orientation).toBeCloseTo(Math.PI / 4, 12);
    expect(d.aspect_ratio).toBeCloseTo(16.24807680927192, 10);

    const ring = only(paint(blank(20, 20), 1, (r, c) => r >= 2 && r < 15 && c >= 2 && c < 15 && !(r >= 5 && r < 12 && c >= 5 && c < 12)));
    expect([ring.area, ring.convex_area]).toEqual([120, 169]);
    expect(ring.perimeter).toBeCloseTo(77.65685424949238, 12);
  });

  it('flags instances touching the frame edge', () => {
    const label = paint(blank(10, 10), 1, (r, c) => r < 3 && c < 3);
    paint(label, 2, (r, c) => r >= 4 && r < 6 && c >= 4 && c < 6);
    paint(label, 3, (r, c) => r === 9 && c >= 5);
    expect(measureLabels(label).instances.map((m) => m.touches_border)).toEqual([true, false, true]);
  });

  it('labels need not be consecutive, and large label values work', () => {
    const label = paint(blank(10, 10), 100_000, (r) => r === 1);
    paint(label, 2 ** 31 + 5, (r) => r === 5);
    paint(label, 7, (r) => r === 8);
    expect(measureLabels(label).instances.map((m) => [m.label, m.area])).toEqual([
      [7, 10],
      [100_000, 10],
      [2 ** 31 + 5, 10],
    ]);
  });
});

describe('segmentations (overlapping masks) and label images agree', () => {
  const synth = generateSynthFrame({ width: 160, height: 128, count: 20, diameter: { median: 12, sigma: 0.3 } }, new Rng(8));

  it('the same instances as RLE masks measure exactly as the label image', () => {
    const fromLabels = measure(synth.labels, { frame: synth.frame });
    const fromSegmentation = measure(segmentationFromLabels(synth.labels), { frame: synth.frame });
    const strip = (m: InstanceMeasurement) => ({ ...m, label: 0 });
    expect(fromSegmentation.instances.map(strip)).toEqual(fromLabels.instances.map(strip));
    expect(fromSegmentation.frame).toEqual(fromLabels.frame);
    expect(fromLabels.frame.count).toBe(synth.particles.length);
  });

  it('overlap counts pixels claimed by more than one mask', () => {
    const a = paint(blank(30, 20), 1, (r, c) => r < 10 && c < 10);
    const b = paint(blank(30, 20), 1, (r, c) => r >= 5 && r < 15 && c >= 5 && c < 15);
    const masks: BinaryMask[] = [a, b].map((l) => ({ width: 30, height: 20, data: Uint8Array.from(l.data) }));
    const m = measureMasks([masks[0], encodeRle(masks[1])], 30, 20);
    expect(m.frame.count).toBe(2);
    expect(m.frame.covered_pixels).toBe(175);
    expect(m.frame.overlap_pixels).toBe(25);
    expect(m.frame.overlap_fraction).toBeCloseTo(25 / 175, 12);
    expect(m.instances.map((i) => i.area)).toEqual([100, 100]);
  });

  it('an empty segmentation is valid', () => {
    const m = measure({ width: 30, height: 20, instances: [], knobs: {}, timings: {} });
    expect(m.instances).toEqual([]);
    expect(m.frame).toMatchObject({ count: 0, covered_pixels: 0, overlap_fraction: 0, area_fraction: 0 });
  });
});

describe('intensity measurements', () => {
  // Two squares: A at 200, B at 120, on a background of 50; B touches A's right side.
  const label = paint(blank(40, 30), 1, (r, c) => r >= 10 && r < 20 && c >= 10 && c < 20);
  paint(label, 2, (r, c) => r >= 10 && r < 20 && c >= 20 && c < 26);
  const frame = greyFrame(40, 30, (r, c) => label.data[r * 40 + c] === 1 ? 200 : label.data[r * 40 + c] === 2 ? 120 : 50);

  it('inside mean, ring mean (background only), contrast and boundary gradient', () => {
    const [a, b] = measureLabels(label, { frame, ringWidth: 2 }).instances;
    expect(a.mean_intensity).toBe(200);
    // The ring of A overlaps B: those pixels are another instance's, not A's surroundings.
    expect(a.ring_mean_intensity).toBe(50);
    expect(a.intensity_contrast).toBe(150);
    expect(b.mean_intensity).toBe(120);
    expect(b.ring_mean_intensity).toBe(50);
    // A's right side borders B (a step of 80, not 150): its boundary gradient is lower than B-free.
    expect(a.boundary_gradient).toBeLessThan(75);
  });

  it('boundary gradient of a lone square: half the step on straight edges, 450√2/8 at corners', () => {
    const lone = paint(blank(40, 30), 1, (r, c) => r >= 10 && r < 20 && c >= 10 && c < 20);
    const f = greyFrame(40, 30, (r, c) => (lone.data[r * 40 + c] ? 200 : 50));
    const [m] = measureLabels(lone, { frame: f }).instances;
    expect(m.boundary_gradient).toBeCloseTo((32 * 75 + (4 * 450 * Math.SQRT2) / 8) / 36, 10);
  });

  it('foreground coverage from the Otsu threshold', () => {
    const m = measureLabels(paint(blank(40, 30), 1, (r, c) => r >= 10 && r < 20 && c >= 10 && c < 20), { frame, foreground: 'bright' });
    // Otsu splits {50} from {120, 200}: the foreground is A and B, the label covers A only.
    expect(m.frame.foreground_polarity).toBe('bright');
    expect(m.frame.foreground_pixels).toBe(160);
    expect(m.frame.covered_foreground_pixels).toBe(100);
    expect(m.frame.uncovered_foreground).toBeCloseTo(60 / 160, 12);
    expect(measureLabels(label, { frame, foreground: 'dark' }).frame.foreground_pixels).toBe(40 * 30 - 160);
  });

  it('the ring can be skipped', () => {
    const [a] = measureLabels(label, { frame, ring: false }).instances;
    expect(a.ring_mean_intensity).toBeUndefined();
    expect(a.intensity_contrast).toBeUndefined();
    expect(a.mean_intensity).toBe(200);
  });
});

describe('bad input', () => {
  function code(f: () => unknown): string {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(SamstarError);
      return `${(e as SamstarError).code}: ${(e as SamstarError).message}`;
    }
    throw new Error('expected an error');
  }

  it('non-integer labels name the pixel', () => {
    const data = new Float32Array(12);
    data[7] = 1.5;
    expect(code(() => measureLabels({ width: 4, height: 3, data } as unknown as LabelImage, { source: 'x.tif' }))).toMatch(
      /^LABELS_INVALID: x\.tif: label image holds 1\.5 at row 1, column 3/,
    );
  });

  it('wrong sizes', () => {
    expect(code(() => measureLabels({ width: 4, height: 3, data: new Uint32Array(11) }))).toMatch(/^SIZE_MISMATCH: .*11 values, expected 4×3/);
    const label = blank(10, 10);
    expect(code(() => measureLabels(label, { frame: greyFrame(10, 9, () => 0) }))).toMatch(/^SIZE_MISMATCH: prediction is 10×10 but the image is 10×9/);
    const rle = encodeRle({ width: 8, height: 8, data: new Uint8Array(64) });
    expect(code(() => measureMasks([rle], 10, 10))).toMatch(/^SIZE_MISMATCH: instance 0: mask is 8×8/);
    expect(code(() => measureMasks([{ size: [10, 10], counts: [50, 10] }], 10, 10))).toMatch(/^LABELS_INVALID: instance 0: RLE runs cover 60 pixels/);
    expect(code(() => measureMasks([{ width: 10, height: 10, data: new Uint8Array(10) }], 10, 10))).toMatch(/^SIZE_MISMATCH/);
  });
});
