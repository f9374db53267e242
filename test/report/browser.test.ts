import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { renderReport, withSizes } from '../../src/report/render.js';
import { syntheticSummary, syntheticVisuals } from './fixtures.js';

/**
 * The report opened from disk in a real browser (Debian's chromium, driven by
 * playwright-core; CI installs it in .ci/run): every plot and overlay image
 * loads and has a size, nothing is requested from outside, nothing is logged
 * as an error. The screenshot is kept in test-output/ (git-ignored) to look at.
 */
const CHROMIUM = '/usr/bin/chromium';
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  process.stderr.write(`test/report/browser.test.ts: skipped: ${CHROMIUM} is not installed (apt-get install -y --no-install-recommends chromium)\n`);
}

describe('the report in Chromium', () => {
  it.skipIf(!haveChromium)(
    haveChromium ? 'renders with its plots and overlays, no console errors, no external requests' : `SKIPPED: ${CHROMIUM} is not installed (apt-get install chromium)`,
    async () => {
      const out = join(root, 'test-output', 'report');
      rmSync(out, { recursive: true, force: true });
      mkdirSync(out, { recursive: true });
      const base = syntheticSummary();
      const visuals = await syntheticVisuals(base);
      const summary = withSizes(base, visuals);
      const { html } = await renderReport({ out, summary, visuals, command: 'test/report/browser.test.ts' });

      const { chromium } = await import('playwright-core');
      const profile = mkdtempSync(join(tmpdir(), 'samstar-chromium-'));
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
        viewport: { width: 1280, height: 900 },
      });
      try {
        const page = await context.newPage();
        const errors: string[] = [];
        const external: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error') errors.push(m.text());
        });
        page.on('pageerror', (e) => errors.push(String(e)));
        page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
        page.on('request', (r) => {
          const url = r.url();
          if (!url.startsWith('file:') && !url.startsWith('data:')) external.push(url);
        });
        await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });

        const images = await page.$$eval('img', (els) =>
          els.map((img) => {
            // (no DOM lib in tsconfig: the image's shape, structurally)
            const image = img as unknown as {
              alt: string;
              complete: boolean;
              naturalWidth: number;
              naturalHeight: number;
              getBoundingClientRect(): { width: number; height: number };
              closest(selector: string): { getAttribute(name: string): string | null } | null;
            };
            const box = image.getBoundingClientRect();
            return { alt: image.alt, complete: image.complete, naturalWidth: image.naturalWidth, naturalHeight: image.naturalHeight, width: box.width, height: box.height, plot: image.closest('figure')?.getAttribute('data-plot') ?? null };
          }),
        );
        expect(images.length).toBe(4 + 8);
        for (const img of images) {
          expect(img.complete, img.alt).toBe(true);
          expect(img.naturalWidth, img.alt).toBeGreaterThan(0);
          expect(img.naturalHeight, img.alt).toBeGreaterThan(0);
          expect(img.width, img.alt).toBeGreaterThan(50);
          expect(img.height, img.alt).toBeGreaterThan(50);
        }
        expect(images.filter((i) => i.plot).map((i) => i.plot).sort()).toEqual(['convergence', 'final-rewards', 'knobs', 'sizes']);
        // The summary table is there, one row per agent plus the defaults.
        expect(await page.$$eval('#summary-table tbody tr', (rows) => rows.length)).toBe(4);
        expect(await page.textContent('.banner')).toContain('Complete');

        const screenshot = join(root, 'test-output', 'report-screenshot.png');
        await page.screenshot({ path: screenshot, fullPage: true });
        expect(statSync(screenshot).size).toBeGreaterThan(50_000);
        const meta = await sharp(screenshot).metadata();
        expect(meta.width).toBe(1280);
        expect(meta.height!).toBeGreaterThan(2000);
        // The screenshot is not blank: the plots and overlays put plenty of distinct colours in it.
        const stats = await sharp(screenshot).stats();
        expect(stats.channels[0].stdev).toBeGreaterThan(10);

        expect(errors).toEqual([]);
        expect(external).toEqual([]);
      } finally {
        await context.close();
        rmSync(profile, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
