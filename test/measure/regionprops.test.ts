import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLabelPng } from '../../src/masks/label-png.js';
import { measureLabels } from '../../src/measure/measure.js';
import type { InstanceMeasurement } from '../../src/measure/types.js';
import { dataPath, FIXTURES_DIR, HAVE_DATA, NO_DATA_MESSAGE } from './data.js';

/**
 * Agreement with scikit-image's regionprops on real label images. The reference values come from
 * scripts/regionprops-fixture.py (skimage 0.19.3), stored in test/fixtures/regionprops.json.
 */
interface Region {
  label: number;
  area: number;
  bbox: [number, number, number, number];
  centroid: [number, number];
  perimeter: number;
  equivalent_diameter: number;
  major_axis_length: number;
  minor_axis_length: number;
  eccentricity: number;
  orientation: number;
  convex_area: number;
  solidity: number;
  inertia_tensor: [number, number, number];
  orientation_branch: boolean;
}
interface Fixture {
  skimage: string;
  files: { path: string; width: number; height: number; regions: Region[] }[];
}

const fixture = JSON.parse(readFileSync(join(FIXTURES_DIR, 'regionprops.json'), 'utf8')) as Fixture;

const SCALARS = [
  'area',
  'perimeter',
  'equivalent_diameter',
  'major_axis_length',
  'minor_axis_length',
  'eccentricity',
  'convex_area',
  'solidity',
] as const;

/** Orientation is defined modulo π, and undefined when the two second moments are equal. */
function orientationDiff(a: number, b: number): number {
  const d = Math.abs(a - b) % Math.PI;
  return Math.min(d, Math.PI - d);
}

describe.skipIf(!HAVE_DATA)('measurements vs skimage regionprops', () => {
  if (!HAVE_DATA) console.warn(NO_DATA_MESSAGE);
  const worst: Record<string, { abs: number; rel: number }> = {};
  let branchCases = 0;
  const note = (name: string, ours: number, theirs: number): void => {
    const abs = Math.abs(ours - theirs);
    const rel = abs / Math.max(Math.abs(theirs), 1e-12);
    const w = (worst[name] ??= { abs: 0, rel: 0 });
    w.abs = Math.max(w.abs, abs);
    w.rel = Math.max(w.rel, theirs === 0 && abs === 0 ? 0 : rel);
  };

  for (const file of fixture.files) {
    it(`agrees on ${file.path} (${file.regions.length} regions)`, async () => {
      const label = await readLabelPng(dataPath(file.path));
      expect([label.width, label.height]).toEqual([file.width, file.height]);
      const measured = measureLabels(label);
      expect(measured.instances.map((m) => m.label)).toEqual(file.regions.map((r) => r.label));
      measured.instances.forEach((m: InstanceMeasurement, i) => {
        const ref = file.regions[i];
        expect(m.bbox).toEqual(ref.bbox);
        expect(m.area).toBe(ref.area);
        expect(m.convex_area).toBe(ref.convex_area);
        for (const key of SCALARS) {
          note(key, m[key], ref[key]);
          expect(m[key], `${file.path} label ${ref.label} ${key}`).toBeCloseTo(ref[key], 7);
        }
        note('centroid', m.centroid[0], ref.centroid[0]);
        note('centroid', m.centroid[1], ref.centroid[1]);
        expect(m.centroid[0]).toBeCloseTo(ref.centroid[0], 8);
        expect(m.centroid[1]).toBeCloseTo(ref.centroid[1], 8);
        if (ref.orientation_branch) {
          // skimage's exact var_r == var_c branch returns the opposite of its formula's limit
          // (see src/measure/moments.ts); we return the limit, ½·atan2(−2b, 0).
          const b = ref.inertia_tensor[1];
          expect(m.orientation).toBeCloseTo(b === 0 ? 0 : b < 0 ? Math.PI / 4 : -Math.PI / 4, 12);
          branchCases++;
          return;
        }
        const d = orientationDiff(m.orientation, ref.orientation);
        note('orientation', d, 0);
        expect(d, `${file.path} label ${ref.label} orientation`).toBeLessThan(1e-7);
      });
    });
  }

  it('reports the worst differences', () => {
    console.log(
      `regionprops agreement (skimage ${fixture.skimage}, ${fixture.files.length} files): ${JSON.stringify(worst)}; ` +
        `orientation: ${branchCases} regions in skimage's var_r == var_c branch`,
    );
    expect(Object.keys(worst).length).toBeGreaterThan(0);
  });
});
