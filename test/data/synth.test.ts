import { describe, expect, it } from 'vitest';
import { generateSynthFrame, generateSynthSeries, type SynthFrame } from '../../src/data/synth.js';
import { labelComponents } from '../../src/masks/components.js';
import { Rng } from '../../src/util/rng.js';

/** Equivalent-circle diameters measured from the label image (not from the generator's own records). */
function measuredDiameters(s: SynthFrame): number[] {
  const areas = new Map<number, number>();
  for (const v of s.labels.data) if (v) areas.set(v, (areas.get(v) ?? 0) + 1);
  return [...areas.values()].map((a) => 2 * Math.sqrt(a / Math.PI));
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Mean sample inside and outside the particles. */
function insideOutside(s: SynthFrame): { inside: number; outside: number } {
  let si = 0;
  let ni = 0;
  let so = 0;
  let no = 0;
  s.labels.data.forEach((l, i) => {
    if (l) {
      si += s.samples[i];
      ni++;
    } else {
      so += s.samples[i];
      no++;
    }
  });
  return { inside: si / ni, outside: so / no };
}

/** Byte-exact equality of two typed arrays (vitest's deep equality walks elements one by one: slow on images). */
function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return a.constructor === b.constructor && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

const small = { width: 160, height: 128, count: 25, diameter: { median: 12 } };

describe('generateSynthFrame', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const a = generateSynthFrame(small, new Rng(42));
    const b = generateSynthFrame(small, new Rng(42));
    const c = generateSynthFrame(small, new Rng(43));
    expect(sameBytes(b.samples, a.samples)).toBe(true);
    expect(sameBytes(b.labels.data, a.labels.data)).toBe(true);
    expect(b.particles).toEqual(a.particles);
    expect(b.frame.hash).toBe(a.frame.hash);
    expect(c.frame.hash).not.toBe(a.frame.hash);
    expect(sameBytes(c.labels.data, a.labels.data)).toBe(false);
  });

  it('keeps the layout when only noise or background change (one seed, one layout)', () => {
    const a = generateSynthFrame(small, new Rng(7));
    const b = generateSynthFrame({ ...small, noise: { photons: 20, read: 0.05 }, unevenness: 0.3 }, new Rng(7));
    expect(sameBytes(b.labels.data, a.labels.data)).toBe(true);
    expect(sameBytes(b.samples, a.samples)).toBe(false);
  });

  it('places the requested count; labels are 1..n, match the particle records, never overlap, keep the gap', () => {
    const gap = 2;
    const s = generateSynthFrame({ ...small, gap, elongation: { fraction: 0.5 } }, new Rng(3));
    const { width, height, data } = s.labels;
    expect(s.requested).toBe(25);
    expect(s.particles.length).toBe(25);
    expect(s.particles.map((p) => p.label)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    // Every pixel within gap + ½ of a particle pixel is either the same particle or background.
    const r = gap + 0.5;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const l = data[y * width + x];
        if (!l) continue;
        for (let dy = -3; dy <= 3; dy++) {
          for (let dx = -3; dx <= 3; dx++) {
            if (dx * dx + dy * dy > r * r) continue;
            const xx = x + dx;
            const yy = y + dy;
            if (xx < 0 || yy < 0 || xx >= width || yy >= height) continue;
            const other = data[yy * width + xx];
            if (other && other !== l) throw new Error(`labels ${l} and ${other} closer than the gap at (${x},${y})`);
          }
        }
      }
    }
    // Each particle is one 8-connected blob whose area and centroid match its record.
    const blobs = labelComponents(Uint8Array.from(data, (v) => (v ? 1 : 0)), width, height, 8);
    expect(blobs.count).toBe(25);
    for (const p of s.particles) {
      let n = 0;
      let sx = 0;
      let sy = 0;
      data.forEach((v, i) => {
        if (v === p.label) {
          n++;
          sx += i % width;
          sy += Math.floor(i / width);
        }
      });
      expect(n).toBe(p.area);
      expect(Math.abs(n - Math.PI * p.a * p.b)).toBeLessThan(0.25 * Math.PI * p.a * p.b + 4);
      expect(Math.abs(sx / n - p.cx)).toBeLessThan(0.75);
      expect(Math.abs(sy / n - p.cy)).toBeLessThan(0.75);
      expect(p.a).toBeGreaterThanOrEqual(p.b);
    }
  });

  it('size distribution: median diameter near the requested one, log-spread near sigma', () => {
    const s = generateSynthFrame({ width: 480, height: 480, count: 200, diameter: { median: 12, sigma: 0.3 }, noise: { photons: 0 } }, new Rng(11));
    expect(s.particles.length).toBe(200);
    const d = measuredDiameters(s);
    expect(Math.abs(median(d) / 12 - 1)).toBeLessThan(0.08);
    const logs = s.particles.map((p) => Math.log(p.diameter));
    const mean = logs.reduce((a, b) => a + b, 0) / logs.length;
    const sd = Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / logs.length);
    expect(Math.abs(sd - 0.3)).toBeLessThan(0.05);
  });

  it('polarity: bright particles above the background, dark ones below; elongated ones are elongated', () => {
    const bright = insideOutside(generateSynthFrame({ ...small, polarity: 'bright' }, new Rng(5)));
    const dark = insideOutside(generateSynthFrame({ ...small, polarity: 'dark' }, new Rng(5)));
    expect(bright.inside).toBeGreaterThan(bright.outside + 50);
    expect(dark.inside).toBeLessThan(dark.outside - 50);
    const rods = generateSynthFrame({ ...small, elongation: { fraction: 1, aspect: [3, 4] } }, new Rng(5));
    for (const p of rods.particles) expect(p.a / p.b).toBeGreaterThanOrEqual(3 - 1e-9);
  });

  it('16-bit with a 12-bit full scale stays below 4096; the frame is still stretched to 0–255', () => {
    const s = generateSynthFrame({ ...small, bitDepth: 16, fullScale: 4095 }, new Rng(1));
    expect(s.samples).toBeInstanceOf(Uint16Array);
    expect(Math.max(...s.samples)).toBeLessThanOrEqual(4095);
    expect(Math.max(...s.samples)).toBeGreaterThan(1000);
    expect(s.frame.bitDepth).toBe(16);
    expect(Math.max(...s.frame.pixels)).toBe(255);
  });

  it('bodies: unlabelled soft-edged structures of the particles\' polarity under them; without bodies, not one draw more', () => {
    const clean = { width: 200, height: 160, count: 30, diameter: { median: 8 }, gap: 0, contrast: 0.3, unevenness: 0, blur: 0, noise: { photons: 0, read: 0 } };
    const plain = generateSynthFrame(small, new Rng(11));
    expect(generateSynthFrame({ ...small, bodies: { count: 0, contrast: 0.5 } }, new Rng(11)).frame.hash).toBe(plain.frame.hash);
    for (const polarity of ['bright', 'dark'] as const) {
      const without = generateSynthFrame({ ...clean, polarity }, new Rng(11));
      const withBodies = generateSynthFrame({ ...clean, polarity, bodies: { count: 2, size: [0.5, 0.8], contrast: 0.4 } }, new Rng(11));
      // Bodies are background: the particles and their labels do not move.
      expect(sameBytes(withBodies.labels.data, without.labels.data)).toBe(true);
      const base = polarity === 'bright' ? 0.1 * 255 : 0.75 * 255;
      const plateau = polarity === 'bright' ? base + 0.4 * 255 : base - 0.4 * 255;
      let onPlateau = 0;
      let between = 0;
      let background = 0;
      withBodies.labels.data.forEach((label, i) => {
        if (label !== 0) return;
        background++;
        const v = withBodies.samples[i];
        expect(Math.min(base, plateau) - 1 <= v && v <= Math.max(base, plateau) + 1).toBe(true);
        if (Math.abs(v - plateau) <= 1) onPlateau++;
        else if (Math.abs(v - base) > 1) between++; // the soft rim
      });
      expect(onPlateau / background).toBeGreaterThan(0.1);
      expect(between).toBeGreaterThan(0);
      expect(between).toBeLessThan(onPlateau);
    }
  });

  it('a crowded request places fewer, still without overlap', () => {
    const s = generateSynthFrame({ width: 64, height: 64, count: 200, diameter: { median: 14, sigma: 0 }, attempts: 50 }, new Rng(2));
    expect(s.particles.length).toBeLessThan(200);
    expect(s.particles.length).toBeGreaterThan(3);
    const blobs = labelComponents(Uint8Array.from(s.labels.data, (v) => (v ? 1 : 0)), 64, 64, 8);
    expect(blobs.count).toBe(s.particles.length);
  });
});

describe('generateSynthSeries', () => {
  it('drift grows the particles and lowers the contrast across frames; frames are deterministic', () => {
    const options = {
      width: 256,
      height: 256,
      count: 40,
      frames: 4,
      diameter: { median: 8, sigma: 0.1 },
      contrast: 0.6,
      noise: { photons: 0, read: 0 },
      drift: { diameter: 24, contrast: 0.2 },
    };
    const series = generateSynthSeries(options, new Rng(9));
    expect(series.length).toBe(4);
    const medians = series.map((s) => median(measuredDiameters(s)));
    for (let i = 1; i < 4; i++) expect(medians[i]).toBeGreaterThan(medians[i - 1]);
    expect(Math.abs(medians[0] / 8 - 1)).toBeLessThan(0.15);
    expect(Math.abs(medians[3] / 24 - 1)).toBeLessThan(0.15);
    const contrast = series.map((s) => {
      const { inside, outside } = insideOutside(s);
      return inside - outside;
    });
    expect(contrast[3]).toBeLessThan(contrast[0] * 0.5);
    expect(series[0].frame.source).toContain('frame-0000');
    const again = generateSynthSeries(options, new Rng(9));
    expect(again.map((s) => s.frame.hash)).toEqual(series.map((s) => s.frame.hash));
    expect(new Set(series.map((s) => s.frame.hash)).size).toBe(4);
  });
});
