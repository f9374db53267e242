import type { Rng } from '../util/rng.js';
import type { SynthFrameOptions } from './synth-options.js';

/**
 * Particle shapes and their non-overlapping placement.
 *
 * Convention: pixel (x, y) has its centre at (x, y), as in skimage's
 * regionprops, so a particle's (cx, cy) is the centroid of its label pixels.
 */

/** A particle as drawn: an ellipse with semi-axes a ≥ b (px) rotated by `angle` (radians, from +x towards +y). */
export interface SynthParticle {
  /** Its value in the label image. */
  label: number;
  cx: number;
  cy: number;
  a: number;
  b: number;
  angle: number;
  /** Requested equivalent-circle diameter 2√(ab). */
  diameter: number;
  /** Pixels it covers in the label image. */
  area: number;
  /** Multiplier of the contrast for this particle. */
  brightness: number;
}

export interface ParticleShape {
  a: number;
  b: number;
  angle: number;
  diameter: number;
  brightness: number;
}

/** Draw n shapes: log-normal diameter, round or elongated aspect, uniform angle, log-normal brightness. */
export function sampleShapes(options: SynthFrameOptions, n: number, rng: Rng): ParticleShape[] {
  const { diameter, elongation } = options;
  const shapes: ParticleShape[] = [];
  for (let k = 0; k < n; k++) {
    const d = Math.max(diameter.min, diameter.median * Math.exp(diameter.sigma * rng.normal()));
    const [lo, hi] = rng.next() < elongation.fraction ? elongation.aspect : elongation.roundAspect;
    const aspect = rng.uniform(lo, hi);
    // a·b = (d/2)² keeps the area of the requested equivalent circle whatever the aspect.
    const a = (d / 2) * Math.sqrt(aspect);
    const b = d / 2 / Math.sqrt(aspect);
    const angle = rng.uniform(0, Math.PI);
    const brightness = Math.exp(options.brightnessSpread * rng.normal());
    shapes.push({ a, b, angle, diameter: d, brightness });
  }
  return shapes;
}

/** Half extents of the ellipse's axis-aligned bounding box. */
export function ellipseExtent(a: number, b: number, angle: number): { ex: number; ey: number } {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return { ex: Math.sqrt(a * a * c * c + b * b * s * s), ey: Math.sqrt(a * a * s * s + b * b * c * c) };
}

/**
 * Pixels whose centre lies inside the ellipse, written into `out` (indices,
 * row-major) with r² = normalised squared radius in `r2` (0 at the centre, 1 on
 * the rim); returns how many. Pixels outside the image are skipped.
 */
export function rasteriseEllipse(
  cx: number,
  cy: number,
  a: number,
  b: number,
  angle: number,
  width: number,
  height: number,
  out: Int32Array,
  r2: Float32Array,
): number {
  const { ex, ey } = ellipseExtent(a, b, angle);
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const x0 = Math.max(0, Math.ceil(cx - ex));
  const x1 = Math.min(width - 1, Math.floor(cx + ex));
  const y0 = Math.max(0, Math.ceil(cy - ey));
  const y1 = Math.min(height - 1, Math.floor(cy + ey));
  const ia2 = 1 / (a * a);
  const ib2 = 1 / (b * b);
  let n = 0;
  for (let y = y0; y <= y1; y++) {
    const dy = y - cy;
    for (let x = x0; x <= x1; x++) {
      const dx = x - cx;
      const u = dx * c + dy * s;
      const v = -dx * s + dy * c;
      const q = u * u * ia2 + v * v * ib2;
      if (q <= 1) {
        out[n] = y * width + x;
        r2[n] = q;
        n++;
      }
    }
  }
  return n;
}

export interface Placement {
  /** Placed particles, labels 1..n in raster order of their centres. */
  particles: SynthParticle[];
  /** Label image (0 = background). */
  labels: Uint32Array;
  /** Per pixel: r² inside its particle (for dome shading); 0 outside. */
  radius2: Float32Array;
}

/**
 * Place shapes at random without overlap, largest first (so crowding drops small
 * particles rather than biasing the size distribution towards small ones), each
 * wholly inside the frame. A particle claims its pixels plus every pixel within
 * gap + ½ px of them; a candidate touching a claimed pixel is rejected, so two
 * particles are always separated by at least `gap` background pixels along rows
 * and columns (and, for gap ≥ 1, never touch diagonally either).
 */
export function placeParticles(options: SynthFrameOptions, shapes: ParticleShape[], rng: Rng): Placement {
  const { width, height, gap, attempts } = options;
  const order = shapes.map((_, k) => k).sort((p, q) => shapes[q].diameter - shapes[p].diameter || p - q);
  const owner = new Int32Array(width * height); // placement index + 1
  const claimed = new Uint8Array(width * height);
  const radius2 = new Float32Array(width * height);
  const disk = diskOffsets(gap + 0.5);
  const maxPixels = Math.ceil((2 * maxSemiAxis(shapes) + 3) ** 2); // bounding box of the largest ellipse
  const pixels = new Int32Array(maxPixels);
  const r2 = new Float32Array(maxPixels);
  const placed: { shape: ParticleShape; cx: number; cy: number; count: number }[] = [];
  for (const k of order) {
    const shape = shapes[k];
    const { ex, ey } = ellipseExtent(shape.a, shape.b, shape.angle);
    // Centre range that keeps the whole bounding box inside the frame.
    const xLow = ex;
    const xHigh = width - 1 - ex;
    const yLow = ey;
    const yHigh = height - 1 - ey;
    if (xHigh < xLow || yHigh < yLow) continue;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const cx = rng.uniform(xLow, xHigh);
      const cy = rng.uniform(yLow, yHigh);
      const n = rasteriseEllipse(cx, cy, shape.a, shape.b, shape.angle, width, height, pixels, r2);
      if (n === 0) continue;
      let free = true;
      for (let j = 0; j < n && free; j++) if (claimed[pixels[j]] !== 0) free = false;
      if (!free) continue;
      const id = placed.length + 1;
      for (let j = 0; j < n; j++) {
        owner[pixels[j]] = id;
        radius2[pixels[j]] = r2[j];
      }
      claim(claimed, owner, pixels, n, id, width, height, disk);
      placed.push({ shape, cx, cy, count: n });
      break;
    }
  }
  // Labels in raster order of the centres: stable, and unrelated to size or placement order.
  const byPosition = placed.map((_, i) => i).sort((p, q) => placed[p].cy - placed[q].cy || placed[p].cx - placed[q].cx);
  const labelOf = new Uint32Array(placed.length + 1);
  byPosition.forEach((i, rank) => (labelOf[i + 1] = rank + 1));
  const labels = new Uint32Array(width * height);
  for (let i = 0; i < owner.length; i++) if (owner[i] !== 0) labels[i] = labelOf[owner[i]];
  const particles: SynthParticle[] = byPosition.map((i, rank) => {
    const { shape, cx, cy, count } = placed[i];
    return { label: rank + 1, cx, cy, a: shape.a, b: shape.b, angle: shape.angle, diameter: shape.diameter, area: count, brightness: shape.brightness };
  });
  return { particles, labels, radius2 };
}

function maxSemiAxis(shapes: ParticleShape[]): number {
  let m = 1;
  for (const s of shapes) if (s.a > m) m = s.a;
  return m;
}

/** Offsets (dx, dy) with dx² + dy² ≤ r², flattened [dx0, dy0, dx1, dy1, …]. */
function diskOffsets(r: number): Int32Array {
  const R = Math.floor(r);
  const list: number[] = [];
  for (let dy = -R; dy <= R; dy++) for (let dx = -R; dx <= R; dx++) if (dx * dx + dy * dy <= r * r) list.push(dx, dy);
  return Int32Array.from(list);
}

/**
 * Claim the particle's pixels and the disk around each rim pixel (one with an
 * 8-neighbour outside). That covers every pixel within r of the particle: the
 * particle pixel nearest to an outside point always has an 8-neighbour outside,
 * since stepping diagonally towards the point would otherwise be nearer.
 */
function claim(
  claimed: Uint8Array,
  owner: Int32Array,
  pixels: Int32Array,
  n: number,
  id: number,
  width: number,
  height: number,
  disk: Int32Array,
): void {
  for (let j = 0; j < n; j++) {
    const i = pixels[j];
    claimed[i] = 1;
    const x = i % width;
    const y = (i - x) / width;
    const rim =
      x === 0 || x === width - 1 || y === 0 || y === height - 1 ||
      owner[i - 1] !== id || owner[i + 1] !== id || owner[i - width] !== id || owner[i + width] !== id ||
      owner[i - width - 1] !== id || owner[i - width + 1] !== id || owner[i + width - 1] !== id || owner[i + width + 1] !== id;
    if (!rim) continue;
    for (let d = 0; d < disk.length; d += 2) {
      const xx = x + disk[d];
      const yy = y + disk[d + 1];
      if (xx >= 0 && xx < width && yy >= 0 && yy < height) claimed[yy * width + xx] = 1;
    }
  }
}
