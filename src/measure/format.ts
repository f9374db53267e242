import type { DirectoryEvaluation } from './evaluate-dirs.js';
import { SCORE_KEYS } from './evaluate.js';
import { describePixelSize } from '../util/units.js';
import type { Measurements } from './types.js';

/** Plain-text renderings for the CLI (the JSON forms are the measurement objects themselves). */

function fixed(v: number | null | undefined, digits = 3): string {
  return v === null || v === undefined ? '—' : v.toFixed(digits);
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

/** The instance table in pixels, plus area (µm²) and diameter (µm) columns where the pixel size is known. */
export function formatMeasurements(m: Measurements & { readonly pixelSizeNm?: number }): string {
  const f = m.frame;
  const lines = [
    `${f.count} instances in ${f.width}×${f.height}: density ${f.density.toFixed(1)} per Mpx, area fraction ${fixed(f.area_fraction)}, overlap ${fixed(f.overlap_fraction)}`,
  ];
  const um = m.pixelSizeNm === undefined ? undefined : m.pixelSizeNm / 1000;
  if (um !== undefined) lines.push(`pixel size ${describePixelSize(m.pixelSizeNm!)}: ${fixed(f.width * um, 1)} × ${fixed(f.height * um, 1)} µm`);
  if (f.uncovered_foreground !== undefined) {
    lines.push(
      `foreground (grey ${f.foreground_polarity === 'bright' ? '≥' : '<'} ${f.foreground_threshold}): ${fixed(f.foreground_fraction)} of the frame, ${fixed(f.uncovered_foreground)} of it uncovered`,
    );
  }
  if (m.instances.length > 0) {
    const withImage = m.instances[0].mean_intensity !== undefined;
    const header = ['label', 'area', 'perimeter', 'eq.diam', 'ecc', 'solidity', 'circ', 'aspect', 'border'];
    if (withImage) header.push('mean', 'contrast', 'edge');
    if (um !== undefined) header.push('area µm²', 'eq.diam µm');
    const rows = m.instances.map((i) => {
      const row = [
        String(i.label),
        String(i.area),
        fixed(i.perimeter, 1),
        fixed(i.equivalent_diameter, 1),
        fixed(i.eccentricity, 2),
        fixed(i.solidity, 2),
        fixed(i.circularity, 2),
        fixed(i.aspect_ratio, 2),
        i.touches_border ? 'yes' : '',
      ];
      if (withImage) row.push(fixed(i.mean_intensity, 1), fixed(i.intensity_contrast, 1), fixed(i.boundary_gradient, 1));
      if (um !== undefined) row.push(fixed(i.area * um * um, 3), fixed(i.equivalent_diameter * um, 3));
      return row;
    });
    lines.push('', table(header, rows));
  }
  return lines.join('\n');
}

export function formatEvaluation(e: DirectoryEvaluation): string {
  const header = ['image', ...SCORE_KEYS];
  const rows = e.images.map((img) => [img.name, ...SCORE_KEYS.map((k) => fixed(img[k]))]);
  rows.push(['mean', ...SCORE_KEYS.map((k) => fixed(e.mean[k]))]);
  return table(header, rows);
}
