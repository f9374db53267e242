import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServeHandle } from '../../src/serve/server.js';
import { startTestServer, synthFrame, TestSocket } from './helpers.js';

/**
 * The viewer at GET / in Debian's Chromium (driven by playwright-core): frames
 * streamed to /v1/stream show up with their outlines, count, histogram and knobs;
 * pause freezes the display; the page makes no request outside the server.
 * The server wants a token: the page is opened from the URL `samstar serve`
 * prints (`/?token=…`) and passes the token on to its fetch and its WebSocket.
 * A screenshot is kept in test-output/serve-viewer.png.
 */

// The page's globals, inside page.evaluate callbacks (this project's TypeScript has no DOM library).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`viewer test skipped: ${CHROMIUM} is absent (apt-get install -y --no-install-recommends chromium)`);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let server: ServeHandle;
let profile: string;
const TOKEN = 'viewer-test-token-0123456789';

beforeAll(async () => {
  if (!hasChromium) return;
  server = await startTestServer({ token: TOKEN });
  profile = await mkdtemp(join(tmpdir(), 'samstar-viewer-profile-'));
});
afterAll(async () => {
  await server?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

describe('viewer', () => {
  it.skipIf(!hasChromium)('shows each streamed frame: outlines, count, histogram, knobs; pause freezes it', async () => {
    const { chromium } = await import('playwright-core');
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      viewport: { width: 1200, height: 800 },
    });
    const client = await TestSocket.open(`${server.url.replace('http', 'ws')}/v1/stream`, { headers: { authorization: `Bearer ${TOKEN}` } });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      // Without the token the page is not served (in a page of its own: its 401s are expected console errors).
      const bare = await context.newPage();
      expect((await bare.goto(`${server.url}/`))?.status()).toBe(401);
      expect((await bare.goto(`${server.url}/?token=wrong-token-0123456789`))?.status()).toBe(401);
      await bare.close();
      const foreign: string[] = [];
      const problems: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith(server.url) && !r.url().startsWith('ws://127.0.0.1') && !r.url().startsWith('data:')) foreign.push(r.url());
      });
      page.on('pageerror', (e) => problems.push(String(e)));
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      const sockets: string[] = [];
      page.on('websocket', (w) => sockets.push(w.url()));
      expect((await page.goto(`${server.url}/?token=${TOKEN}`))?.status()).toBe(200);
      await page.waitForFunction(() => document.getElementById('status')?.textContent === 'live', undefined, { timeout: 15_000 });
      expect(sockets).toEqual([`${server.url.replace('http', 'ws')}/v1/viewer?token=${TOKEN}`]);
      // The page's own fetch (/v1/policy, with the token as a Bearer header) was answered.
      await page.waitForFunction(() => document.getElementById('chooser')?.textContent?.includes('fixed (test)'), undefined, { timeout: 15_000 });

      /** Coloured (outline) pixels on the canvas: the frame is grey, outlines are palette colours. */
      const outlinePixels = (): Promise<number> =>
        page.evaluate(() => {
          const canvas = document.getElementById('overlay');
          const data: Uint8ClampedArray = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          let n = 0;
          for (let i = 0; i < data.length; i += 4) if (data[i] !== data[i + 1] || data[i + 1] !== data[i + 2]) n++;
          return n;
        });
      const shown = (): Promise<number> => page.evaluate(() => Number(document.body.dataset.frames));
      const waitShown = (n: number): Promise<unknown> => page.waitForFunction((k) => Number(document.body.dataset.frames) >= k, n, { timeout: 15_000 });

      const counts: number[] = [];
      const outlines: number[] = [];
      for (const [i, particles] of [6, 14, 24].entries()) {
        const frame = synthFrame(20 + i, 160, particles);
        client.sendFrame({ id: `v${i}` }, frame.png);
        const result = await client.nextJson();
        expect(result.type).toBe('result');
        await waitShown(i + 1);
        expect(await page.textContent('#count')).toBe(String(result.count));
        expect(await page.textContent('#frame-id')).toBe(`v${i}`);
        expect(await page.locator('#histogram rect').count()).toBeGreaterThan(0);
        expect(await page.textContent('#knobs')).toContain('blob_threshold');
        expect(await page.textContent('#latency')).toMatch(/ms$/);
        counts.push(result.count);
        outlines.push(await outlinePixels());
      }
      expect(counts[2]).toBeGreaterThan(counts[0]); // more particles, more instances …
      expect(outlines[0]).toBeGreaterThan(20); // … drawn as coloured outlines
      expect(outlines[2]).toBeGreaterThan(outlines[0]);

      // Pause: new frames are still answered over the API but the display stays as it was.
      await page.click('#pause');
      expect(await page.textContent('#pause')).toBe('Resume');
      const frozen = await shown();
      const later = synthFrame(30, 160, 9);
      client.sendFrame({ id: 'while-paused' }, later.png);
      const pausedResult = await client.nextJson();
      await page.waitForTimeout(300);
      expect(await shown()).toBe(frozen);
      expect(await page.textContent('#frame-id')).toBe('v2');
      // Resume: the latest frame appears.
      await page.click('#pause');
      await waitShown(frozen + 1);
      expect(await page.textContent('#frame-id')).toBe('while-paused');
      expect(await page.textContent('#count')).toBe(String(pausedResult.count));

      const dir = join(root, 'test-output');
      await mkdir(dir, { recursive: true });
      await page.screenshot({ path: join(dir, 'serve-viewer.png'), fullPage: true });
      expect(foreign).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      client.close();
      await context.close();
    }
  }, 60_000);
});
