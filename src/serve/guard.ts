/**
 * Who may talk to `samstar serve`: Host, Origin and token checks, run as a
 * fastify onRequest hook on every route — the WebSocket upgrades of /v1/stream
 * and /v1/viewer included (@fastify/websocket routes the upgrade request through
 * fastify's hooks before upgrading, so a refusal is a plain HTTP answer).
 *
 * Why each check:
 *  - Host: DNS rebinding. A web page the user visits can point its own name at
 *    127.0.0.1 and then read every answer of a local service "same-origin". Its
 *    requests still carry `Host: its-own-name`, so only names this server is
 *    really reached by are served (the bound address, localhost, loopback
 *    literals, with a wildcard bind this machine's addresses and host name, and
 *    --allow-host names).
 *  - Origin: WebSockets are not covered by CORS (any page may open one to any
 *    server), and a "simple" cross-site POST is sent without a preflight. So the
 *    WebSocket upgrades and every state-changing request must come from the
 *    server's own origin (the viewer page) or an --allow-origin origin; clients
 *    outside a browser (Python, curl, Node) send no Origin and are accepted. The
 *    server never sends CORS headers, so no other page can read an answer.
 *  - Token: off loopback anyone on the network could use the API and watch the
 *    viewer. With a token set, every route wants `Authorization: Bearer TOKEN` or
 *    `?token=TOKEN` (browsers cannot set headers on a WebSocket). Tokens are
 *    compared in constant time (timingSafeEqual on equal-length SHA-256 digests).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SamstarError } from '../util/errors.js';
import { ServeError } from './errors.js';

export interface GuardOptions {
  /** The address the server binds to. */
  readonly host: string;
  /** Required on every request when set. */
  readonly token: string | null;
  /** More Host names to serve (e.g. the name a reverse proxy is reached by). */
  readonly allowHosts?: readonly string[];
  /** More origins whose pages may open WebSockets and send POSTs (e.g. https://lab.example). */
  readonly allowOrigins?: readonly string[];
}

const HOW_TO_SET_TOKEN = 'set one with --token auto (generated and printed with the viewer URL), --token SECRET, or the SAMSTAR_TOKEN environment variable';

/** Whether a host name binds to loopback only. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^127\./.test(h) || /^::ffff:127\./.test(h);
}

/**
 * Refuse to serve beyond loopback without a token, and refuse unusable tokens.
 * Called by `startServer` and, before the model loads, by the CLI.
 */
export function checkExposure(host: string, token: string | null | undefined): void {
  if (token !== null && token !== undefined) checkToken(token);
  if (!isLoopback(host) && !token) {
    throw new SamstarError(
      'ARGUMENT_INVALID',
      `refusing to listen on ${host} without a token: anyone who can reach this address could use the API, the viewer and /metrics`,
      { hint: `${HOW_TO_SET_TOKEN}; or bind to loopback (--host 127.0.0.1) and reach it through a reverse proxy` },
    );
  }
}

function checkToken(token: string): void {
  if (token.length < 16 || !/^[\x21-\x7e]+$/.test(token)) {
    throw new SamstarError('ARGUMENT_INVALID', `the token must be at least 16 printable ASCII characters without spaces (got ${token.length} characters)`, {
      hint: '--token auto generates one',
    });
  }
}

/** A random token for `--token auto` (32 URL-safe characters, 192 bits). */
export function generateToken(): string {
  return randomBytes(24).toString('base64url');
}

/** The name in a Host header, lower-case, without port or IPv6 brackets; null when it is malformed. */
export function hostName(header: string): string | null {
  const h = header.trim().toLowerCase();
  const bracketed = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(h);
  if (bracketed) return bracketed[1];
  const plain = /^([a-z0-9._-]+)(?::\d{1,5})?$/.exec(h);
  return plain ? plain[1] : null;
}

/** Host names (no ports) this server answers to. */
export function allowedHosts(host: string, extra: readonly string[] = []): Set<string> {
  const names = new Set<string>(['localhost', '127.0.0.1', '::1']);
  const bound = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (bound === '0.0.0.0' || bound === '::' || bound === '') {
    // A wildcard bind is reached by any of this machine's addresses, or its name.
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(a.address.toLowerCase().replace(/%.*$/, ''));
    names.add(hostname().toLowerCase());
  } else {
    names.add(bound);
  }
  for (const name of extra) {
    const n = hostName(name);
    if (!n) throw new SamstarError('ARGUMENT_INVALID', `--allow-host ${JSON.stringify(name)} is not a host name`, { hint: 'give a name or address, e.g. --allow-host samstar.lab.example' });
    names.add(n);
  }
  return names;
}

/** Normalise `--allow-origin` values to origins (scheme://host[:port]). */
export function parseOrigins(values: readonly string[] = []): Set<string> {
  const origins = new Set<string>();
  for (const value of values) {
    let origin: string;
    try {
      origin = new URL(value).origin;
    } catch {
      origin = 'null';
    }
    if (origin === 'null' || origin.replace(/\/+$/, '') !== value.replace(/\/+$/, '').toLowerCase()) {
      throw new SamstarError('ARGUMENT_INVALID', `--allow-origin ${JSON.stringify(value)} is not an origin`, { hint: 'give scheme, host and port only, e.g. --allow-origin https://lab.example' });
    }
    origins.add(origin);
  }
  return origins;
}

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** Constant-time token comparison: both sides hashed to 32 bytes, then timingSafeEqual. */
export function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** Methods that change nothing (the Origin check applies to every other one). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The onRequest hook: Host (421), then Origin (403), then token (401). */
export function makeGuard(options: GuardOptions): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  checkExposure(options.host, options.token);
  const hosts = allowedHosts(options.host, options.allowHosts);
  const origins = parseOrigins(options.allowOrigins);
  const hostList = [...hosts].join(', ');
  const token = options.token;

  return async (request) => {
    const hostHeader = request.headers.host;
    const name = typeof hostHeader === 'string' ? hostName(hostHeader) : null;
    if (!name || !hosts.has(name)) {
      throw new ServeError(
        421,
        'HOST_NOT_ALLOWED',
        `Host ${JSON.stringify(hostHeader ?? '(none)')} is not a name this server answers to`,
        `served names: ${hostList}; add one with --allow-host NAME (e.g. the name of a reverse proxy that passes the Host header on)`,
      );
    }

    const isUpgrade = (request as { ws?: boolean }).ws === true;
    const origin = request.headers.origin;
    if (origin !== undefined && (isUpgrade || !SAFE_METHODS.has(request.method))) {
      let allowed = false;
      try {
        const url = new URL(origin);
        // The page's own origin: same host and port as the (already checked) Host header.
        allowed = url.host === new URL(`http://${hostHeader}`).host || origins.has(url.origin);
      } catch {
        allowed = false; // "null" (sandboxed frames, file://) or garbage
      }
      if (!allowed) {
        const path = request.url.split('?')[0];
        throw new ServeError(
          403,
          'ORIGIN_NOT_ALLOWED',
          `Origin ${JSON.stringify(origin)} may not ${isUpgrade ? `open the WebSocket ${path}` : `send ${request.method} ${path}`}: only the server's own pages and --allow-origin origins may`,
          'clients outside a browser send no Origin header; to let a web page on another origin in, start the server with --allow-origin ORIGIN',
        );
      }
    }

    if (token) {
      const auth = request.headers.authorization;
      let given: string | null = null;
      let from = '';
      if (auth !== undefined) {
        const m = /^Bearer +(\S+) *$/i.exec(auth);
        if (!m) throw unauthorized('the Authorization header is not "Bearer TOKEN"');
        given = m[1];
        from = 'the Authorization header';
      } else {
        const q = request.url.indexOf('?');
        given = q >= 0 ? new URLSearchParams(request.url.slice(q + 1)).get('token') : null;
        from = '?token=';
      }
      if (given === null) throw unauthorized('this server wants a token');
      if (!tokenMatches(given, token)) throw unauthorized(`wrong token (from ${from})`);
    }
  };
}

function unauthorized(message: string): ServeError {
  return new ServeError(401, 'UNAUTHORIZED', message, 'send "Authorization: Bearer TOKEN" or add ?token=TOKEN to the URL (the viewer URL printed by samstar serve carries it)');
}
