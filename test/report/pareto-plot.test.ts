import { describe, expect, it } from 'vitest';
import type { ObjectiveSpec } from '../../rewards/index.js';
import { paretoPlot, paretoRows } from '../../src/report/pareto-plot.js';
import { renderPlot } from '../../src/report/plots.js';
import { archiveOfStudy, objectiveTerms, paretoFileOf } from '../../src/train/pareto-file.js';

const specs: ObjectiveSpec[] = [
  { name: 'coverage', expr: 'coverage', direction: 'maximise' },
  { name: 'overlap', expr: 'overlap', direction: 'minimise' },
  { name: 'edge', expr: 'edge', direction: 'maximise' },
];

function file(m: number) {
  const s = specs.slice(0, m);
  const raws = [
    [0.9, 0.3, 0.2],
    [0.5, 0.05, 0.6],
    [0.7, 0.1, 0.4],
    [0.4, 0.4, 0.1], // dominated
  ];
  const records = raws.map((r, i) => ({ index: i, generation: i, candidate: 0, x: [i], knobs: { k: i }, total: r[0], terms: objectiveTerms(s, r.slice(0, m)), frames: [0], ms: 1, created: '' }));
  const defaultTerms = objectiveTerms(s, [0.6, 0.2, 0.3].slice(0, m));
  return paretoFileOf({ study: 's', method: 'm', specs: s, archive: archiveOfStudy(s, records), defaultPoint: { knobs: { k: -1 }, terms: defaultTerms } })!;
}

describe('the report\'s Pareto plot', () => {
  it('marks the chosen point and the default knobs; a scatter for 2 objectives, parallel coordinates for 3', async () => {
    for (const m of [2, 3]) {
      const f = file(m);
      const rows = paretoRows(f);
      expect(rows.filter((r) => r.kind === 'chosen')).toHaveLength(1);
      expect(rows.filter((r) => r.kind === 'default')).toEqual([{ kind: 'default', label: 'default knobs', values: f.default!.objectives }]);
      expect(rows.filter((r) => r.kind !== 'default')).toHaveLength(3);
      const plot = paretoPlot(f);
      expect(JSON.stringify(plot.spec)).toContain(m === 2 ? '"layer"' : 'parallel coordinates');
      const rendered = await renderPlot(plot);
      expect(rendered.svg).toContain('<svg');
      expect(rendered.svg).toContain('overlap (lower is better)');
    }
  });
});
