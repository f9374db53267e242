import type { FrameMeasurement, InstanceMeasurement, Measurements } from './types.js';

/**
 * Measurement tables as CSV (RFC 4180: comma-separated, a header row, quotes around fields
 * holding a comma, quote or newline): what pandas, R and spreadsheets read.
 *
 * Two tables: one row per instance (`INSTANCE_COLUMNS`) and one row per frame
 * (`FRAME_COLUMNS`). Pixel quantities end in `_px` / `_px2`; where the frame's pixel size is
 * known the same quantities follow in µm / µm² (empty cells otherwise), and `pixel_size_nm`
 * says which size was used. Entry points: `instancesCsv`, `framesCsv`.
 */
export interface MeasuredFrame {
  /** The frame's name: a file path or a frame reference (stack.tif#t0003). */
  readonly frame: string;
  readonly measurements: Measurements;
  readonly pixelSizeNm?: number;
}

type Cell = string | number | boolean | undefined;
type Column<T> = readonly [name: string, value: (row: T, um: number | undefined) => Cell];

const perUm = (px: number, um: number | undefined): number | undefined => (um === undefined ? undefined : px * um);
const perUm2 = (px: number, um: number | undefined): number | undefined => (um === undefined ? undefined : px * um * um);

type InstanceRow = { frame: string; pixelSizeNm?: number; m: InstanceMeasurement };

export const INSTANCE_COLUMNS: readonly Column<InstanceRow>[] = [
  ['frame', (r) => r.frame],
  ['label', (r) => r.m.label],
  ['area_px2', (r) => r.m.area],
  ['centroid_row_px', (r) => r.m.centroid[0]],
  ['centroid_col_px', (r) => r.m.centroid[1]],
  ['bbox_min_row', (r) => r.m.bbox[0]],
  ['bbox_min_col', (r) => r.m.bbox[1]],
  ['bbox_max_row', (r) => r.m.bbox[2]],
  ['bbox_max_col', (r) => r.m.bbox[3]],
  ['equivalent_diameter_px', (r) => r.m.equivalent_diameter],
  ['perimeter_px', (r) => r.m.perimeter],
  ['major_axis_length_px', (r) => r.m.major_axis_length],
  ['minor_axis_length_px', (r) => r.m.minor_axis_length],
  ['eccentricity', (r) => r.m.eccentricity],
  ['orientation_rad', (r) => r.m.orientation],
  ['solidity', (r) => r.m.solidity],
  ['circularity', (r) => r.m.circularity],
  ['aspect_ratio', (r) => r.m.aspect_ratio],
  ['touches_border', (r) => r.m.touches_border],
  ['mean_intensity', (r) => r.m.mean_intensity],
  ['intensity_contrast', (r) => r.m.intensity_contrast],
  ['pixel_size_nm', (r) => r.pixelSizeNm],
  ['area_um2', (r, um) => perUm2(r.m.area, um)],
  ['centroid_row_um', (r, um) => perUm(r.m.centroid[0], um)],
  ['centroid_col_um', (r, um) => perUm(r.m.centroid[1], um)],
  ['equivalent_diameter_um', (r, um) => perUm(r.m.equivalent_diameter, um)],
  ['perimeter_um', (r, um) => perUm(r.m.perimeter, um)],
  ['major_axis_length_um', (r, um) => perUm(r.m.major_axis_length, um)],
  ['minor_axis_length_um', (r, um) => perUm(r.m.minor_axis_length, um)],
];

type FrameRow = { frame: string; pixelSizeNm?: number; m: FrameMeasurement };

export const FRAME_COLUMNS: readonly Column<FrameRow>[] = [
  ['frame', (r) => r.frame],
  ['width_px', (r) => r.m.width],
  ['height_px', (r) => r.m.height],
  ['count', (r) => r.m.count],
  ['density_per_megapixel', (r) => r.m.density],
  ['covered_px2', (r) => r.m.covered_pixels],
  ['area_fraction', (r) => r.m.area_fraction],
  ['overlap_fraction', (r) => r.m.overlap_fraction],
  ['uncovered_foreground', (r) => r.m.uncovered_foreground],
  ['pixel_size_nm', (r) => r.pixelSizeNm],
  ['frame_area_um2', (r, um) => perUm2(r.m.width * r.m.height, um)],
  ['density_per_mm2', (r, um) => (um === undefined ? undefined : r.m.count / (r.m.width * r.m.height * um * um * 1e-6))],
];

export function instancesCsv(frames: readonly MeasuredFrame[]): string {
  const rows = frames.flatMap((f) => f.measurements.instances.map((m) => ({ frame: f.frame, pixelSizeNm: f.pixelSizeNm, m })));
  return table(INSTANCE_COLUMNS, rows);
}

export function framesCsv(frames: readonly MeasuredFrame[]): string {
  return table(FRAME_COLUMNS, frames.map((f) => ({ frame: f.frame, pixelSizeNm: f.pixelSizeNm, m: f.measurements.frame })));
}

function table<T extends { pixelSizeNm?: number }>(columns: readonly Column<T>[], rows: readonly T[]): string {
  const lines = [columns.map(([name]) => name).join(',')];
  for (const row of rows) {
    const um = row.pixelSizeNm === undefined ? undefined : row.pixelSizeNm / 1000;
    lines.push(columns.map(([, value]) => cell(value(row, um))).join(','));
  }
  return lines.join('\n') + '\n';
}

function cell(value: Cell): string {
  if (value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(+value.toPrecision(10)) : '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
