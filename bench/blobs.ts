/**
 * The blob detector's scale-space layers: `npm run bench -- blobs [--size 2048]`.
 *
 * Per σ of the √2 lattice 2 … 64 px, on a generated size² frame: the layer as the detector computes
 * it (scaleNormalisedLog: full resolution below σ 8, else the coarsest 2× pyramid level where σ spans
 * ≥ 4 level pixels, interpolated back) against the direct full-resolution blur + Laplacian it
 * replaced, with their ratio and the largest difference relative to the layer's peak; then one full
 * σ-range detection as the segmenter runs it.
 *
 * Last line: {"bench":"blobs","size":…,"pyramid_ms_total":…,"direct_ms_total":…,"speedup":…,"max_rel_diff":…,"detect_ms":…}
 */
import { generateSynthFrame } from '../src/data/synth.js';
import { detectBlobs, DEFAULT_BLOB_OPTIONS, scaleNormalisedLog } from '../src/image/blobs.js';
import { gaussianBlur } from '../src/image/blur.js';
import { Rng } from '../src/util/rng.js';
import { machineLine } from './_machine.js';

function directLog(grey: Float32Array, w: number, h: number, sigma: number): Float32Array {
  const g = gaussianBlur(grey, w, h, sigma);
  const out = new Float32Array(w * h);
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      out[i] = sigma * sigma * (g[i - 1] + g[i + 1] + g[i - w] + g[i + w] - 4 * g[i]);
    }
  }
  return out;
}

export async function run(args: string[]): Promise<void> {
  const at = args.indexOf('--size');
  const size = at >= 0 ? Number(args[at + 1]) : 2048;
  console.log(machineLine());
  const { frame } = generateSynthFrame({ width: size, height: size, count: Math.round((size * size) / 4000), diameter: { median: 20, sigma: 0.6, min: 4 } }, new Rng(1), 'bench-blobs');
  const sigmas = Array.from({ length: 11 }, (_, k) => 2 * Math.SQRT2 ** k);
  let pyramidTotal = 0;
  let directTotal = 0;
  let worst = 0;
  for (const sigma of sigmas) {
    const t0 = performance.now();
    const layer = scaleNormalisedLog(frame.grey, size, size, sigma);
    const t1 = performance.now();
    const reference = directLog(frame.grey, size, size, sigma);
    const t2 = performance.now();
    let peak = 0;
    let diff = 0;
    const margin = Math.ceil(3 * sigma) + 2;
    for (let y = margin; y < size - margin; y++) {
      for (let x = margin; x < size - margin; x++) {
        const i = y * size + x;
        peak = Math.max(peak, Math.abs(reference[i]));
        diff = Math.max(diff, Math.abs(layer[i] - reference[i]));
      }
    }
    const rel = peak > 0 ? diff / peak : 0;
    worst = Math.max(worst, rel);
    pyramidTotal += t1 - t0;
    directTotal += t2 - t1;
    console.log(`σ ${sigma.toFixed(2).padStart(5)}: layer ${(t1 - t0).toFixed(0).padStart(5)} ms, direct ${(t2 - t1).toFixed(0).padStart(5)} ms (${((t2 - t1) / (t1 - t0)).toFixed(1)}×), largest difference ${(100 * rel).toFixed(2)} % of the peak`);
  }
  const d0 = performance.now();
  const found = detectBlobs(frame.grey, size, size, { ...DEFAULT_BLOB_OPTIONS, sigmaMin: 2, sigmaMax: 64, sigmaSteps: 11 });
  const detectMs = performance.now() - d0;
  console.log(`all 11 layers: ${pyramidTotal.toFixed(0)} ms, direct ${directTotal.toFixed(0)} ms; detection over σ 2–64 (11 scales) on ${size}²: ${detectMs.toFixed(0)} ms, ${found.length} blobs`);
  const round = (v: number, d = 1): number => Math.round(v * 10 ** d) / 10 ** d;
  console.log(JSON.stringify({ bench: 'blobs', size, pyramid_ms_total: Math.round(pyramidTotal), direct_ms_total: Math.round(directTotal), speedup: round(directTotal / pyramidTotal), max_rel_diff: round(worst, 4), detect_ms: Math.round(detectMs) }));
}
