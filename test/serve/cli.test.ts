import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { getJson, postImage, synthFrame } from './helpers.js';

/**
 * `samstar serve` as a user runs it: the SAM segmenter on the bundled model, a
 * free port, one frame over HTTP, then Ctrl-C (SIGINT) shuts it down cleanly.
 * Then the token: `--host 0.0.0.0` without one does not start and says how to
 * set one; `--token auto` prints the viewer URL with the token (as Jupyter
 * does), and SAMSTAR_TOKEN sets it too.
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The environment without any SAMSTAR_TOKEN of the developer's. */
const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const e: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: '0', ...extra };
  if (!('SAMSTAR_TOKEN' in extra)) delete e.SAMSTAR_TOKEN;
  return e;
};

/** `samstar serve ARGS` until it prints its listening line (or exits). */
function serve(args: string[], extraEnv: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), 'serve', ...args], { cwd: root, env: env(extraEnv), stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => (out.stdout += String(d)));
  child.stderr.on('data', (d) => (out.stderr += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  /** Resolves with the stdout so far once `pattern` appears in it. */
  const printed = (pattern: RegExp, timeoutMs = 45_000): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms\n${out.stdout}\n${out.stderr}`)), timeoutMs);
      const check = (): void => {
        const m = pattern.exec(out.stdout);
        if (m) {
          clearTimeout(timer);
          resolve(m);
        }
      };
      child.stdout.on('data', check);
      check();
      void exited.then((code) => reject(new Error(`exited with ${code}\n${out.stdout}\n${out.stderr}`)));
    });
  return { child, out, exited, printed };
}

describe('samstar serve (CLI)', () => {
  it('serves the bundled SAM model on loopback and shuts down gracefully on SIGINT', async () => {
    const { child, exited, printed, out } = serve(['--port', '0', '--knobs', '{"points_per_side": 4}']);
    try {
      const [, url] = await printed(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      const health = await getJson(`${url}/v1/health`);
      expect(health.segmenter).toBe('sam');
      expect(health.model.encoder_sha256).toMatch(/^[0-9a-f]{64}$/);
      // The model files by name, not by where they are on this machine.
      expect(health.model.encoder).toMatch(/^[^/\\]+\.onnx$/);
      expect(JSON.stringify(health)).not.toContain(root);
      const frame = synthFrame(3, 64, 5);
      const r = await postImage({ url } as never, frame.png, { 'content-type': 'image/png' });
      expect(r.status).toBe(200);
      const body = await r.json();
      expect(body.segmenter).toBe('sam');
      expect(body.knobs.points_per_side).toBe(4);
      expect(body.timings_ms.stages.encode).toBeGreaterThan(0);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(out.stderr).toContain('SIGINT, shutting down');
      expect(out.stdout).toMatch(/stopped after 1 frames \(1 ok, 0 failed, 0 dropped, 0 refused\)/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 90_000);

  it('--host 0.0.0.0 without a token does not start, and says how to set one', async () => {
    const { exited, out } = serve(['--host', '0.0.0.0', '--port', '0', '--segmenter', 'blobs']);
    expect(await exited).toBe(1);
    expect(out.stdout).not.toContain('listening');
    expect(out.stderr).toContain('refusing to listen on 0.0.0.0 without a token');
    expect(out.stderr).toContain('--token auto');
    expect(out.stderr).toContain('SAMSTAR_TOKEN');
  }, 60_000);

  it('--token auto: prints the viewer URL with a generated token; without it the API answers 401', async () => {
    const { child, exited, printed } = serve(['--port', '0', '--segmenter', 'blobs', '--token', 'auto']);
    try {
      const [, url, token] = await printed(/^ {4}(http:\/\/127\.0\.0\.1:\d+)\/\?token=([\w-]+)$/m);
      expect(token.length).toBeGreaterThanOrEqual(32);
      expect((await fetch(`${url}/v1/health`)).status).toBe(401);
      expect((await fetch(`${url}/v1/health`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      const page = await fetch(`${url}/?token=${token}`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('samstar live');
      const r = await postImage({ url } as never, synthFrame(4, 64, 5).png, { 'content-type': 'image/png', authorization: `Bearer ${token}` });
      expect(r.status).toBe(200);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);

  it('SAMSTAR_TOKEN sets the token; then --host 0.0.0.0 starts', async () => {
    const token = 'env-token-0123456789abcdef';
    const { child, exited, printed, out } = serve(['--host', '0.0.0.0', '--port', '0', '--segmenter', 'blobs'], { SAMSTAR_TOKEN: token });
    try {
      const [, port] = await printed(/listening on http:\/\/0\.0\.0\.0:(\d+)/);
      await printed(/\?token=YOUR_TOKEN/); // a given token is not printed
      expect(out.stdout).not.toContain(token);
      const url = `http://127.0.0.1:${port}`;
      expect((await fetch(`${url}/metrics`)).status).toBe(401);
      expect((await fetch(`${url}/metrics?token=${token}`)).status).toBe(200);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(out.stderr).toContain('reverse proxy');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
