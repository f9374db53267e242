import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { getJson, postImage, synthFrame } from './helpers.js';

/**
 * `samstar serve` as a user runs it: the SAM segmenter on the bundled model, a
 * free port, one frame over HTTP, then Ctrl-C (SIGINT) shuts it down cleanly.
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('samstar serve (CLI)', () => {
  it('serves the bundled SAM model on loopback and shuts down gracefully on SIGINT', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), 'serve', '--port', '0', '--knobs', '{"points_per_side": 4}'], {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "listening" line within 45 s\n${stdout}\n${stderr}`)), 45_000);
        child.stdout.on('data', () => {
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        });
        void exited.then((code) => reject(new Error(`exited with ${code}\n${stdout}\n${stderr}`)));
      });
      const health = await getJson(`${url}/v1/health`);
      expect(health.segmenter).toBe('sam');
      expect(health.model.encoder_sha256).toMatch(/^[0-9a-f]{64}$/);
      const frame = synthFrame(3, 64, 5);
      const r = await postImage({ url } as never, frame.png, { 'content-type': 'image/png' });
      expect(r.status).toBe(200);
      const body = await r.json();
      expect(body.segmenter).toBe('sam');
      expect(body.knobs.points_per_side).toBe(4);
      expect(body.timings_ms.stages.encode).toBeGreaterThan(0);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(stderr).toContain('SIGINT, shutting down');
      expect(stdout).toMatch(/stopped after 1 frames \(1 ok, 0 failed, 0 dropped, 0 refused\)/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 90_000);
});
