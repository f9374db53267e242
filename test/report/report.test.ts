import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CompareSummary } from '../../src/compare/summary.js';
import { formatNumber } from '../../src/report/html.js';
import { renderReport, withSizes } from '../../src/report/render.js';
import { syntheticSummary, syntheticVisuals } from './fixtures.js';
import { expectNumbersMatch, taggedNumbers } from './html-numbers.js';

describe('the report page', () => {
  let dir: string;
  let summary: CompareSummary;
  let html: string;
  let onDisk: unknown;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'samstar-report-'));
    const base = syntheticSummary();
    const visuals = await syntheticVisuals(base);
    summary = withSizes(base, visuals);
    // What the commands do: summary.json first, then the page from the same object.
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary, null, 2));
    await renderReport({ out: dir, summary, visuals, command: 'test' });
    html = readFileSync(join(dir, 'report.html'), 'utf8');
    onDisk = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  });

  it('shows exactly the numbers of summary.json', () => {
    const count = expectNumbersMatch(html, onDisk);
    expect(count).toBeGreaterThan(100);
    const paths = new Set(taggedNumbers(html).map((t) => t.path));
    for (const p of [
      'default.total',
      'perAgent.0.best.mean',
      'perAgent.0.best.std',
      'perAgent.0.reach.90%.evaluations.mean',
      'perAgent.0.reach.95%.seconds.mean',
      'perAgent.1.labelScores.msa.mean',
      'perAgent.0.bestRun.knobs.pred_iou_thresh',
      'tests.0.p',
      'tests.2.pHolm',
      'sizes.panels.1.median',
      'runs.8.best.total',
      'thresholds.95%',
    ]) {
      expect(paths.has(p), p).toBe(true);
    }
    // The embedded copy is summary.json.
    const embedded = /<script type="application\/json" id="summary-json">([\s\S]*?)<\/script>/.exec(html)![1];
    expect(JSON.parse(embedded)).toEqual(onDisk);
  });

  it('orders agents by best reward as the data says, and the Mann–Whitney table is the summary\'s', () => {
    const s = onDisk as CompareSummary;
    expect(s.perAgent.map((a) => a.agent)).toEqual(['cmaes', 'bo', 'random']);
    expect(s.perAgent[0].best.mean!).toBeGreaterThan(s.perAgent[1].best.mean!);
    // 3 vs 3 completely separated: exact p = 0.1 (the smallest possible with 3 seeds each).
    const t = s.tests.find((x) => x.a === 'cmaes' && x.b === 'random')!;
    expect(t.method).toBe('exact');
    expect(t.p).toBeCloseTo(0.1, 12);
    expect(html).toContain(`data-value="${JSON.stringify(t.p)}" data-format="p">${formatNumber(t.p, 'p')}</span>`);
  });

  it('is self-contained: plots and overlays inline, no external request', () => {
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/<link\b/);
    expect(html).not.toMatch(/<script\b(?![^>]*type="application\/json")/);
    expect(html).not.toMatch(/url\(\s*['"]?https?:/);
    const images = [...html.matchAll(/<img [^>]*src="data:image\/(svg\+xml|png);base64,/g)];
    // 4 plots + 2 frames × 4 overlays.
    expect(images.filter((m) => m[1] === 'svg+xml')).toHaveLength(4);
    expect(images.filter((m) => m[1] === 'png')).toHaveLength(8);
    expect(html).toContain('data-status="complete"');
  });

  it('writes every plot as SVG and PNG, and the overlays at full size', async () => {
    for (const name of ['convergence', 'final-rewards', 'knobs', 'sizes']) {
      const svg = readFileSync(join(dir, 'plots', `${name}.svg`), 'utf8');
      expect(svg).toMatch(/^<svg[^>]*width="\d+/);
      const meta = await sharp(join(dir, 'plots', `${name}.png`)).metadata();
      expect(meta.width!).toBeGreaterThan(200);
    }
    // Vega drew text (axis titles) and one line per agent.
    const convergence = readFileSync(join(dir, 'plots', 'convergence.svg'), 'utf8');
    expect(convergence).toContain('best reward so far');
    expect(convergence).toContain('cmaes');
    expect(existsSync(join(dir, 'overlays', 'frame-0000.default.png'))).toBe(true);
    expect((await sharp(join(dir, 'overlays', 'frame-0001.cmaes.png')).metadata()).width).toBe(96);
  });

  it('marks a partial comparison, and its numbers still match', async () => {
    const partialDir = mkdtempSync(join(tmpdir(), 'samstar-report-partial-'));
    const partial = withSizes(syntheticSummary({ partial: true }), null);
    expect(partial.status).toBe('partial');
    expect(partial.runs.find((r) => r.agent === 'bo' && r.seed === 3)!.status).toBe('not started');
    expect(partial.runs.find((r) => r.agent === 'random' && r.seed === 3)!.status).toBe('interrupted');
    expect(partial.perAgent.find((a) => a.agent === 'bo')!.best.n).toBe(2);
    await renderReport({ out: partialDir, summary: partial, visuals: null, notes: ['interrupted: pictures skipped'] });
    const page = readFileSync(join(partialDir, 'report.html'), 'utf8');
    expect(page).toContain('data-status="partial"');
    expect(page).toContain('interrupted: pictures skipped');
    expectNumbersMatch(page, JSON.parse(JSON.stringify(partial)));
    expect(existsSync(join(partialDir, 'plots', 'sizes.svg'))).toBe(false);
    expect(existsSync(join(partialDir, 'plots', 'convergence.svg'))).toBe(true);
  });
});
