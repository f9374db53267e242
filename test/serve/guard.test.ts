import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServeHandle } from '../../src/serve/server.js';
import { BlobSegmenter } from '../../src/segmenters/blobs/segmenter.js';
import { FixedKnobChooser } from '../../src/serve/knob-chooser.js';
import { hostName, tokenMatches } from '../../src/serve/guard.js';
import { isSamstarError } from '../../src/util/errors.js';
import { rawHttp, startTestServer, synthFrame, TestSocket, until } from './helpers.js';

/**
 * Who may talk to the server, on real servers on loopback ports: the Host check
 * (DNS rebinding) on every route and on the WebSocket upgrades, the Origin check
 * on the WebSockets and on POSTs (WebSockets are not covered by CORS), the token
 * (401 without it or with a wrong one, served with it, as a header or ?token=),
 * no CORS header that would let another site read an answer, no start beyond
 * loopback without a token, and the per-client limits.
 */

const TOKEN = 'test-token-0123456789abcdef';
const frame = synthFrame(7, 64, 5);
let open: ServeHandle; // loopback, no token: the default `samstar serve`
let locked: ServeHandle; // loopback, with a token, a proxy name and an extra origin

beforeAll(async () => {
  [open, locked] = await Promise.all([
    startTestServer(),
    startTestServer({ token: TOKEN, allowHosts: ['samstar.lab.example'], allowOrigins: ['https://lab.example'] }),
  ]);
});
afterAll(async () => {
  await Promise.all([open?.close(), locked?.close()]);
});

const ws = (s: ServeHandle, path: string): string => `${s.url.replace('http', 'ws')}${path}`;
const bearer = { authorization: `Bearer ${TOKEN}` };
const png = { 'content-type': 'image/png' };

/** No header of the answer lets a page of another origin read it. */
function expectNoCors(headers: Record<string, unknown>): void {
  expect(Object.keys(headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
}

describe('Host check (DNS rebinding)', () => {
  it('refuses a foreign Host on every HTTP route with 421 and a JSON error naming it', async () => {
    for (const server of [open, locked]) {
      for (const [method, path] of [['GET', '/'], ['GET', '/v1/health'], ['GET', '/v1/policy'], ['GET', '/metrics'], ['POST', '/v1/segment'], ['GET', '/v1/stream'], ['GET', '/nowhere']]) {
        const r = await rawHttp(`${server.url}${path}?token=${TOKEN}`, { method, headers: { host: `evil.example:${server.port}`, ...bearer, ...png }, body: method === 'POST' ? frame.png : undefined });
        expect([path, r.status]).toEqual([path, 421]);
        const { error } = r.json();
        expect(error.code).toBe('HOST_NOT_ALLOWED');
        expect(error.message).toContain('evil.example');
        expect(error.hint).toContain('--allow-host');
        expect(r.text).not.toContain('"status":"ok"');
      }
    }
  });

  it('serves the bound address, localhost and --allow-host names', async () => {
    for (const host of [`127.0.0.1:${open.port}`, `localhost:${open.port}`, 'localhost', '[::1]:1']) {
      expect([host, (await rawHttp(`${open.url}/v1/health`, { headers: { host } })).status]).toEqual([host, 200]);
    }
    expect((await rawHttp(`${locked.url}/v1/health`, { headers: { host: 'samstar.lab.example', ...bearer } })).status).toBe(200);
    expect((await rawHttp(`${open.url}/v1/health`, { headers: { host: 'samstar.lab.example' } })).status).toBe(421); // not allowed there
    // A name that merely contains an allowed one is still foreign.
    expect((await rawHttp(`${open.url}/v1/health`, { headers: { host: 'localhost.evil.example' } })).status).toBe(421);
    expect((await rawHttp(`${open.url}/v1/health`, { headers: { host: '127.0.0.1.evil.example' } })).status).toBe(421);
  });

  it('refuses a foreign Host on the WebSocket upgrades', async () => {
    for (const path of ['/v1/stream', '/v1/viewer']) {
      const r = await TestSocket.attempt(ws(open, path), { headers: { host: `evil.example:${open.port}` } });
      expect(r.opened).toBe(false);
      if (r.opened) continue;
      expect(r.status).toBe(421);
      expect(JSON.parse(r.body).error.code).toBe('HOST_NOT_ALLOWED');
    }
    expect(open.service.viewers.count).toBe(0);
  });

  it('parses Host headers', () => {
    expect(hostName('LocalHost:8080')).toBe('localhost');
    expect(hostName('[::1]:8080')).toBe('::1');
    expect(hostName('127.0.0.1')).toBe('127.0.0.1');
    expect(hostName('evil.example@127.0.0.1')).toBeNull();
    expect(hostName('a b')).toBeNull();
  });
});

describe('Origin check (WebSockets are not covered by CORS)', () => {
  it('refuses a foreign Origin on /v1/stream and /v1/viewer with 403 naming it', async () => {
    for (const server of [open, locked]) {
      for (const path of ['/v1/stream', '/v1/viewer']) {
        for (const origin of ['http://evil.example', `http://evil.example:${server.port}`, 'null', 'https://lab.example.evil.example']) {
          const r = await TestSocket.attempt(`${ws(server, path)}?token=${TOKEN}`, { origin });
          expect([path, origin, r.opened]).toEqual([path, origin, false]);
          if (r.opened) continue;
          expect(r.status).toBe(403);
          const { error } = JSON.parse(r.body);
          expect(error.code).toBe('ORIGIN_NOT_ALLOWED');
          expect(error.message).toContain(origin);
          expect(error.message).toContain(path);
        }
      }
    }
  });

  it('accepts the server\'s own origin, --allow-origin origins and clients that send none', async () => {
    const origins: [ServeHandle, string | undefined][] = [
      [open, undefined],
      [open, `http://127.0.0.1:${open.port}`],
      [locked, `http://127.0.0.1:${locked.port}`],
      [locked, 'https://lab.example'],
    ];
    for (const [server, origin] of origins) {
      const r = await TestSocket.attempt(`${ws(server, '/v1/stream')}?token=${TOKEN}`, { origin });
      expect([origin, r.opened]).toEqual([origin, true]);
      if (!r.opened) continue;
      r.socket.sendFrame({ id: 'o' }, frame.png);
      expect((await r.socket.nextJson()).type).toBe('result');
      r.socket.close();
    }
  });

  it('refuses a cross-site POST (even a "simple" one that skips the preflight); no CORS header opens any answer', async () => {
    const evil = { origin: 'http://evil.example' };
    const simple = await rawHttp(`${open.url}/v1/segment`, { method: 'POST', headers: { ...evil, 'content-type': 'text/plain' }, body: 'x' });
    expect(simple.status).toBe(403);
    expect(simple.json().error.code).toBe('ORIGIN_NOT_ALLOWED');
    expectNoCors(simple.headers);
    const image = await rawHttp(`${open.url}/v1/segment`, { method: 'POST', headers: { ...evil, ...png }, body: frame.png });
    expect(image.status).toBe(403);
    expectNoCors(image.headers);
    // The preflight a browser sends first for an image POST is not granted.
    const preflight = await rawHttp(`${open.url}/v1/segment`, { method: 'OPTIONS', headers: { ...evil, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    expect(preflight.status).toBeGreaterThanOrEqual(400);
    expectNoCors(preflight.headers);
    // A GET from another page's script is answered but without CORS headers: that page cannot read it.
    const read = await rawHttp(`${open.url}/v1/health`, { headers: evil });
    expect(read.status).toBe(200);
    expectNoCors(read.headers);
    // The viewer's own origin may POST.
    const own = await rawHttp(`${open.url}/v1/segment`, { method: 'POST', headers: { origin: open.url, ...png }, body: frame.png });
    expect(own.status).toBe(200);
    expectNoCors(own.headers);
  });
});

describe('token', () => {
  const routes: [string, string][] = [['GET', '/'], ['GET', '/v1/health'], ['GET', '/v1/policy'], ['GET', '/metrics'], ['POST', '/v1/segment'], ['GET', '/nowhere']];

  it('a missing or wrong token gets 401 on every route, with WWW-Authenticate and a JSON error', async () => {
    const attempts: [string, Record<string, string>, string][] = [
      ['missing', {}, ''],
      ['wrong header', { authorization: 'Bearer not-the-token-0123456789' }, ''],
      ['wrong query', {}, '?token=not-the-token-0123456789'],
      ['a prefix', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }, ''],
      ['not bearer', { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` }, ''],
      ['header wrong, query right', { authorization: 'Bearer nope-nope-nope-nope' }, `?token=${TOKEN}`],
    ];
    const framesBefore = locked.service.metrics.framesTotal;
    for (const [method, path] of routes) {
      for (const [what, headers, query] of attempts) {
        const r = await rawHttp(`${locked.url}${path}${query}`, { method, headers: { ...headers, ...png }, body: method === 'POST' ? frame.png : undefined });
        expect([path, what, r.status]).toEqual([path, what, 401]);
        expect(r.headers['www-authenticate']).toBe('Bearer realm="samstar"');
        const { error } = r.json();
        expect(error.code).toBe('UNAUTHORIZED');
        expect(error.hint).toContain('Authorization: Bearer');
        expect(r.text).not.toContain(TOKEN.slice(5));
      }
    }
    expect(locked.service.metrics.framesTotal).toBe(framesBefore); // nothing refused was segmented
  });

  it('the right token is served, as a header or as ?token=', async () => {
    for (const [method, path] of routes.filter(([, p]) => p !== '/nowhere')) {
      for (const [headers, query] of [[bearer, ''], [{ authorization: `bearer  ${TOKEN}` }, ''], [{}, `?token=${TOKEN}`]] as const) {
        const r = await rawHttp(`${locked.url}${path}${query}`, { method, headers: { ...headers, ...png }, body: method === 'POST' ? frame.png : undefined });
        expect([path, query, r.status]).toEqual([path, query, 200]);
      }
    }
    const labels = await rawHttp(`${locked.url}/v1/segment?token=${TOKEN}&labels=png`, { method: 'POST', headers: png, body: frame.png });
    expect(labels.status).toBe(200);
    expect(labels.headers['content-type']).toBe('image/png');
    const page = await rawHttp(`${locked.url}/?token=${TOKEN}`);
    expect(page.headers['referrer-policy']).toBe('no-referrer'); // the URL carries the token
  });

  it('guards the WebSockets: 401 without the token, open with ?token= or the header', async () => {
    for (const path of ['/v1/stream', '/v1/viewer']) {
      for (const url of [ws(locked, path), `${ws(locked, path)}?token=wrong-wrong-wrong-wrong`]) {
        const r = await TestSocket.attempt(url);
        expect([url, r.opened]).toEqual([url, false]);
        if (!r.opened) expect(r.status).toBe(401);
      }
    }
    const byQuery = await TestSocket.attempt(`${ws(locked, '/v1/stream')}?token=${encodeURIComponent(TOKEN)}`);
    const byHeader = await TestSocket.attempt(ws(locked, '/v1/stream'), { headers: bearer });
    for (const r of [byQuery, byHeader]) {
      expect(r.opened).toBe(true);
      if (!r.opened) continue;
      r.socket.sendFrame({ id: 't' }, frame.png);
      expect((await r.socket.nextJson()).type).toBe('result');
      r.socket.close();
    }
  });

  it('compares tokens in constant time over digests (any lengths)', () => {
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(tokenMatches(TOKEN.slice(0, -1), TOKEN)).toBe(false);
    expect(tokenMatches('', TOKEN)).toBe(false);
    expect(tokenMatches(`${TOKEN}x`, TOKEN)).toBe(false);
  });
});

describe('exposure', () => {
  const blobs = (): { segmenter: BlobSegmenter; chooser: FixedKnobChooser } => {
    const segmenter = new BlobSegmenter();
    return { segmenter, chooser: new FixedKnobChooser(segmenter.knobs.defaults(), 'test') };
  };
  const freePort = (): Promise<number> =>
    new Promise((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });

  it('--host 0.0.0.0 without a token does not start, and says how to set one', async () => {
    const port = await freePort();
    for (const host of ['0.0.0.0', '::', '192.168.1.20']) {
      const error = await startServer({ ...blobs(), host, port }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isSamstarError(error)).toBe(true);
      if (!isSamstarError(error)) continue;
      expect(error.code).toBe('ARGUMENT_INVALID');
      expect(error.message).toContain(`refusing to listen on ${host} without a token`);
      expect(error.hint).toContain('--token auto');
      expect(error.hint).toContain('SAMSTAR_TOKEN');
    }
    // Nothing listens there.
    await expect(fetch(`http://127.0.0.1:${port}/v1/health`)).rejects.toThrow();
    // A short token is refused too.
    await expect(startServer({ ...blobs(), host: '0.0.0.0', port, token: 'secret' })).rejects.toThrow(/at least 16/);
  });

  it('--host 0.0.0.0 with a token starts, and keeps the Host and token checks', async () => {
    const server = await startServer({ ...blobs(), host: '0.0.0.0', port: 0, token: TOKEN });
    try {
      const url = `http://127.0.0.1:${server.port}`;
      expect((await rawHttp(`${url}/v1/health`, { headers: bearer })).status).toBe(200);
      expect((await rawHttp(`${url}/v1/health`)).status).toBe(401);
      expect((await rawHttp(`${url}/v1/health`, { headers: { ...bearer, host: 'evil.example' } })).status).toBe(421);
    } finally {
      await server.close();
    }
  });
});

describe('per-client limits', () => {
  it('limits open WebSockets per client address (streams and viewers together)', async () => {
    const server = await startTestServer({ clientConnections: 2 });
    try {
      const a = await TestSocket.open(ws(server, '/v1/stream'));
      const b = await TestSocket.open(ws(server, '/v1/viewer'));
      const c = await TestSocket.open(ws(server, '/v1/stream'));
      await until(() => c.closed !== null, 10_000, 'the third socket to be closed');
      expect(c.closed).toEqual({ code: 1013, reason: 'at most 2 WebSockets per client address' });
      expect(server.clients.usage('127.0.0.1').sockets).toBe(2);
      a.close();
      await until(() => server.clients.usage('127.0.0.1').sockets === 1, 10_000, 'the count to drop');
      const d = await TestSocket.open(ws(server, '/v1/stream'));
      d.sendFrame({ id: 'd' }, frame.png);
      expect((await d.nextJson()).id).toBe('d');
      expect(d.closed).toBeNull();
      b.close();
      d.close();
    } finally {
      await server.close();
    }
  });

  it('limits waiting requests per client address: 503 CLIENT_LIMIT with Retry-After; the waiting ones are served', async () => {
    const server = await startTestServer({ requestQueue: 4, clientQueue: 1 });
    const scheduler = server.service.scheduler;
    scheduler.pause();
    try {
      const waiting = rawHttp(`${server.url}/v1/segment`, { method: 'POST', headers: { ...png, 'x-frame-id': 'w' }, body: frame.png });
      await until(() => scheduler.depth === 1, 10_000, 'a waiting request');
      const refused = await rawHttp(`${server.url}/v1/segment`, { method: 'POST', headers: png, body: frame.png });
      expect(refused.status).toBe(503);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      const { error } = refused.json();
      expect(error.code).toBe('CLIENT_LIMIT');
      expect(error.message).toContain('127.0.0.1');
      expect(error.message).toContain('limit 1 per client address');
      scheduler.resume();
      const served = await waiting;
      expect(served.status).toBe(200);
      expect(served.json().id).toBe('w');
      expect(server.clients.usage('127.0.0.1').waiting).toBe(0);
      // The slot is free again.
      expect((await rawHttp(`${server.url}/v1/segment`, { method: 'POST', headers: png, body: frame.png })).status).toBe(200);
    } finally {
      scheduler.resume();
      await server.close();
    }
  });
});
