import { describe, expect, it } from 'vitest';
import { blobSigmas, detectBlobs, scaleNormalisedLog, type Blob, type BlobOptions } from '../../src/image/blobs.js';
import { upsampleLevel } from '../../src/image/log-filter.js';
import { gaussianBlur } from '../../src/image/blur.js';
import { estimateNoiseSigma } from '../../src/image/noise.js';
import { Rng } from '../../src/util/rng.js';

interface Disk {
  x: number;
  y: number;
  r: number;
}

function diskImage(width: number, height: number, disks: Disk[], options: { polarity: 'bright' | 'dark'; noise: number; seed: number }): Float32Array {
  const img = new Float32Array(width * height).fill(options.polarity === 'bright' ? 30 : 200);
  for (const d of disks) {
    for (let y = Math.floor(d.y - d.r - 1); y <= d.y + d.r + 1; y++) {
      for (let x = Math.floor(d.x - d.r - 1); x <= d.x + d.r + 1; x++) {
        if (x < 0 || y < 0 || x >= width || y >= height) continue;
        if ((x - d.x) ** 2 + (y - d.y) ** 2 <= d.r * d.r) img[y * width + x] = options.polarity === 'bright' ? 150 : 80;
      }
    }
  }
  const blurred = gaussianBlur(img, width, height, 0.8);
  const rng = new Rng(options.seed);
  for (let i = 0; i < blurred.length; i++) blurred[i] += options.noise * rng.normal();
  return blurred;
}

const OPTIONS: BlobOptions = { sigmaMin: 1.5, sigmaMax: 9, sigmaSteps: 10, threshold: 5, thresholdMode: 'noise', overlap: 0.5, polarity: 'bright', border: 0 };

function layout(): Disk[] {
  const disks: Disk[] = [];
  const radii = [3, 4, 5, 6, 8, 10];
  let i = 0;
  for (let gy = 0; gy < 4; gy++) for (let gx = 0; gx < 6; gx++) disks.push({ x: 30 + gx * 40 + (gy % 2) * 3, y: 30 + gy * 45, r: radii[i++ % radii.length] });
  return disks;
}

function stepAt(sigmas: number[], sigma: number): number {
  const k = sigmas.indexOf(sigma);
  const next = sigmas[Math.min(sigmas.length - 1, k + 1)];
  const prev = sigmas[Math.max(0, k - 1)];
  return Math.max(next - sigma, sigma - prev);
}

/** One blob per disk and no other: within `maxOffset` px of its centre, its σ within one step of r/√2. */
function expectEachDiskOnce(blobs: readonly Blob[], disks: readonly Disk[], sigmas: number[], maxOffset: number): void {
  expect(blobs.length).toBe(disks.length);
  for (const d of disks) {
    const near = blobs.filter((b) => Math.hypot(b.x - d.x, b.y - d.y) <= d.r);
    expect(near.length).toBe(1);
    const b = near[0];
    expect(Math.hypot(b.x - d.x, b.y - d.y)).toBeLessThanOrEqual(maxOffset);
    // The best scale for a disk of radius r is σ = r/√2.
    expect(Math.abs(b.sigma - d.r / Math.SQRT2)).toBeLessThanOrEqual(stepAt(sigmas, b.sigma) + 1e-9);
  }
}

describe('LoG blob detection', () => {
  it('finds every disk once, at its centre, with the radius within one sigma step', () => {
    const disks = layout();
    const img = diskImage(260, 200, disks, { polarity: 'bright', noise: 4, seed: 1 });
    const blobs = detectBlobs(img, 260, 200, OPTIONS);
    const sigmas = blobSigmas(OPTIONS);
    expectEachDiskOnce(blobs, disks, sigmas, 1.5);
  });

  it('follows polarity: dark disks on a bright field are found only as dark blobs', () => {
    const disks = layout();
    const img = diskImage(260, 200, disks, { polarity: 'dark', noise: 4, seed: 2 });
    // The bright field between dark disks may answer as bright blobs, but never on a disk.
    const bright = detectBlobs(img, 260, 200, { ...OPTIONS, polarity: 'bright' });
    for (const d of disks) expect(bright.filter((b) => Math.hypot(b.x - d.x, b.y - d.y) <= d.r).length).toBe(0);
    const dark = detectBlobs(img, 260, 200, { ...OPTIONS, polarity: 'dark' });
    expect(dark.length).toBe(disks.length);
    expect(dark.every((b) => b.polarity === 'dark')).toBe(true);
    expect(detectBlobs(img, 260, 200, { ...OPTIONS, polarity: 'both' }).filter((b) => b.polarity === 'dark').length).toBe(disks.length);
  });

  it('finds nothing in pure noise at a noise-relative threshold, and drops blobs near the border', () => {
    const rng = new Rng(3);
    const noise = Float32Array.from({ length: 200 * 200 }, () => 100 + 8 * rng.normal());
    expect(detectBlobs(noise, 200, 200, OPTIONS).length).toBe(0);
    const disks = [{ x: 6, y: 100, r: 4 }, { x: 100, y: 100, r: 4 }];
    const img = diskImage(200, 200, disks, { polarity: 'bright', noise: 2, seed: 4 });
    expect(detectBlobs(img, 200, 200, { ...OPTIONS, border: 0 }).length).toBe(2);
    expect(detectBlobs(img, 200, 200, { ...OPTIONS, border: 10 }).length).toBe(1);
  });

  it('estimates white noise sigma (Immerkær)', () => {
    const rng = new Rng(5);
    for (const sigma of [2, 5, 10]) {
      const img = Float32Array.from({ length: 256 * 256 }, () => 100 + sigma * rng.normal());
      expect(estimateNoiseSigma(img, 256, 256)).toBeCloseTo(sigma, 0);
    }
  });
});

describe('blob scale-space layers on the pyramid', () => {
  it('σ < 8 is the direct full-resolution LoG; larger σ agree with it to a small fraction of the response', () => {
    const w = 256;
    const h = 224;
    const img = diskImage(w, h, [{ x: 90, y: 100, r: 14 }, { x: 150, y: 120, r: 22 }, { x: 100, y: 80, r: 3 }], { polarity: 'bright', noise: 3, seed: 7 });
    const direct = (sigma: number): Float32Array => {
      const g = gaussianBlur(img, w, h, sigma);
      const out = new Float32Array(w * h);
      for (let y = 1; y < h - 1; y++) for (let x = 1; x < w - 1; x++) {
        const i = y * w + x;
        out[i] = sigma * sigma * (g[i - 1] + g[i + 1] + g[i - w] + g[i + w] - 4 * g[i]);
      }
      return out;
    };
    for (const sigma of [2, 3.5, 6, 11, 20, 24]) {
      const layer = scaleNormalisedLog(img, w, h, sigma);
      const reference = direct(sigma);
      let peak = 0;
      let worst = 0;
      // Interior only: the two differ in how borders are extended.
      const margin = Math.ceil(3 * sigma) + 2;
      for (let y = margin; y < h - margin; y++) for (let x = margin; x < w - margin; x++) {
        const i = y * w + x;
        peak = Math.max(peak, Math.abs(reference[i]));
        worst = Math.max(worst, Math.abs(layer[i] - reference[i]));
      }
      expect(peak).toBeGreaterThan(5);
      // Below σ 8 the same computation (up to the border rule); above it, interpolation and the
      // 5-point Laplacian on a grid where σ spans 4–8 pixels.
      expect(worst / peak).toBeLessThan(sigma < 8 ? 1e-3 : 0.05);
    }
  });

  it('finds large disks at their centre and scale through the coarse levels', () => {
    const disks = [{ x: 70, y: 80, r: 18 }, { x: 190, y: 90, r: 30 }, { x: 300, y: 70, r: 12 }];
    const img = diskImage(380, 180, disks, { polarity: 'dark', noise: 4, seed: 8 });
    const options: BlobOptions = { ...OPTIONS, sigmaMin: 6, sigmaMax: 32, sigmaSteps: 12, polarity: 'dark' };
    const blobs = detectBlobs(img, 380, 180, options);
    const sigmas = blobSigmas(options);
    expectEachDiskOnce(blobs, disks, sigmas, 3);
  });

  it('upsampleLevel interpolates level pixel centres bilinearly and reproduces a linear ramp', () => {
    const level = { data: Float32Array.from({ length: 8 * 6 }, (_, i) => 3 * (i % 8) - 2 * Math.floor(i / 8)), width: 8, height: 6 };
    const up = upsampleLevel(level, 4, 32, 24);
    // Level pixel (i, j) is centred at input (4i + 1.5, 4j + 1.5); a ramp stays a ramp inside.
    for (let y = 2; y < 22; y++) for (let x = 2; x < 30; x++) {
      expect(up[y * 32 + x]).toBeCloseTo(3 * ((x + 0.5) / 4 - 0.5) - 2 * ((y + 0.5) / 4 - 0.5), 4);
    }
    expect(Array.from(upsampleLevel(level, 1, 8, 6))).toEqual(Array.from(level.data));
  });
});
