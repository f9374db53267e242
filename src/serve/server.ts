import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { CompiledReward } from '../../rewards/composite.js';
import type { Segmenter } from '../segmenters/types.js';
import { ACCEPTED_TEXT, ACCEPTED_TYPES, frameInput, mediaType } from './decode-body.js';
import { describeError, ServeError, withoutPaths } from './errors.js';
import { makeGuard } from './guard.js';
import type { OnlineAdapter } from '../policy/adapt.js';
import type { KnobChooser } from './knob-chooser.js';
import { clientAddress, ClientLimits } from './limits.js';
import type { DropReason } from './scheduler.js';
import { FrameService, type Outcome } from './service.js';
import { StreamConnection, STREAM_PROTOCOL } from './stream.js';
import { VIEWER_CSP, VIEWER_HTML } from './viewer-page.js';

export interface ServeOptions {
  readonly segmenter: Segmenter;
  readonly chooser: KnobChooser;
  /** Reward terms in every answer (`--reward FILE`). */
  readonly reward?: CompiledReward | null;
  /** `--adapt`: refine the chosen knobs per frame (pipeline.ts). */
  readonly adapter?: OnlineAdapter | null;
  /** Default 127.0.0.1 (loopback only). */
  readonly host?: string;
  /** Default 8080; 0 picks a free port. */
  readonly port?: number;
  /** Largest request body / stream message, bytes (default 64 MiB). */
  readonly maxBodyBytes?: number;
  /** Largest frame, width·height (default 4096²). */
  readonly maxPixels?: number;
  /** The signal channel of multi-channel uploads, and a pixel size (nm) for every frame. */
  readonly channel?: number;
  readonly pixelSizeNm?: number;
  /** Requests that may wait while one is segmented (default 4); more get 503. */
  readonly requestQueue?: number;
  /** Unprocessed frames kept per stream (default 1); older ones are dropped. */
  readonly streamBuffer?: number;
  /** Open /v1/stream connections at most (default 16). */
  readonly maxStreams?: number;
  /** Open WebSockets (streams and viewers) per client address (default 8). */
  readonly clientConnections?: number;
  /** Requests per client address that may wait (default 2); more get 503 CLIENT_LIMIT. */
  readonly clientQueue?: number;
  /**
   * Required on every route as `Authorization: Bearer TOKEN` or `?token=TOKEN` when set;
   * without one the server refuses to bind beyond loopback.
   */
  readonly token?: string | null;
  /** Host names served besides the bound address, localhost and loopback literals. */
  readonly allowHosts?: readonly string[];
  /** Origins (besides the server's own) whose pages may open WebSockets and POST. */
  readonly allowOrigins?: readonly string[];
  /** What `GET /v1/health` says about the model (e.g. SamSegmenter.describeModel(); absolute paths are shown as file names). */
  readonly model?: object | null;
  /** Internal errors (500s), for the log. */
  readonly onError?: (error: unknown, where: string) => void;
  /** Dispose the segmenter on close (default false: the caller owns it). */
  readonly disposeSegmenter?: boolean;
}

export interface ServeHandle {
  /** http://host:port */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Scheduler (pause/resume/idle: test hooks), metrics and viewers. */
  readonly service: FrameService;
  readonly app: FastifyInstance;
  /** Per-client-address counts (test hooks). */
  readonly clients: ClientLimits;
  /** Graceful shutdown: refuse new frames, drop queued ones, finish the running one, close sockets. */
  close(): Promise<void>;
}

export const DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  maxBodyBytes: 64 * 2 ** 20,
  maxPixels: 4096 * 4096,
  requestQueue: 4,
  streamBuffer: 1,
  maxStreams: 16,
  clientConnections: 8,
  clientQueue: 2,
} as const;

declare module 'fastify' {
  interface FastifyRequest {
    /** performance.now() when the request arrived. */
    arrivedAt: number;
  }
}

const NOT_AN_IMAGE = Symbol('not an image');
/** Viewer connections at most (each gets every overlay). */
const MAX_VIEWERS = 32;
const ROUTES = 'GET / (viewer), POST /v1/segment, GET /v1/stream (WebSocket), GET /v1/viewer (WebSocket), GET /v1/health, GET /v1/policy, GET /metrics';

/**
 * Start `samstar serve` on host:port; resolves once it listens. The steps: the
 * shared state (serverContext), Fastify's hooks and parsers (installHooks), the
 * viewer page and information routes (addInfoRoutes), POST /v1/segment
 * (addSegmentRoute), the WebSocket routes (addSocketRoutes), then listen.
 */
export async function startServer(options: ServeOptions): Promise<ServeHandle> {
  const host = options.host ?? DEFAULTS.host;
  // Host, Origin and token checks; throws (before anything starts) for a non-loopback host without a token.
  const guard = makeGuard({ host, token: options.token ?? null, allowHosts: options.allowHosts, allowOrigins: options.allowOrigins });
  const ctx = serverContext(options);
  const app = Fastify({ logger: false, bodyLimit: ctx.maxBodyBytes, forceCloseConnections: true, return503OnClosing: true });
  await app.register(websocket, { options: { maxPayload: ctx.maxBodyBytes, perMessageDeflate: false } });
  installHooks(app, ctx, guard);
  addInfoRoutes(app, ctx);
  addSegmentRoute(app, ctx);
  addSocketRoutes(app, ctx);

  await app.listen({ host, port: options.port ?? DEFAULTS.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? DEFAULTS.port);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return { url: `http://${urlHost}:${port}`, host, port, service: ctx.service, app, close: shutdown(app, ctx), clients: ctx.clients };
}

/** What the routes share: the options, the frame service, the open sockets and limits, and whether the server is closing. */
interface ServerContext {
  readonly options: ServeOptions;
  readonly service: FrameService;
  readonly streams: Set<WebSocket>;
  readonly clients: ClientLimits;
  readonly maxBodyBytes: number;
  readonly maxStreams: number;
  readonly model: object | null;
  readonly onError: (error: unknown, where: string) => void;
  /** Set once close() starts: new frames and sockets are refused. */
  closing: boolean;
}

function serverContext(options: ServeOptions): ServerContext {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULTS.maxBodyBytes;
  const maxStreams = options.maxStreams ?? DEFAULTS.maxStreams;
  const onError = options.onError ?? (() => {});
  const service = new FrameService(
    { segmenter: options.segmenter, chooser: options.chooser, reward: options.reward ?? null, adapter: options.adapter ?? null },
    { maxPixels: options.maxPixels ?? DEFAULTS.maxPixels, channel: options.channel, pixelSizeNm: options.pixelSizeNm },
    { requestQueue: options.requestQueue ?? DEFAULTS.requestQueue, streamBuffer: options.streamBuffer ?? DEFAULTS.streamBuffer },
    onError,
  );
  const streams = new Set<WebSocket>();
  const clients = new ClientLimits({ connections: options.clientConnections ?? DEFAULTS.clientConnections, queued: options.clientQueue ?? DEFAULTS.clientQueue });
  const model = withoutPaths(options.model ?? null);
  return { options, service, streams, clients, maxBodyBytes, maxStreams, model, onError, closing: false };
}

/** Arrival times, the Host/Origin/token guard, HTTP metrics, body parsers, and the error and not-found answers. */
function installHooks(app: FastifyInstance, ctx: ServerContext, guard: ReturnType<typeof makeGuard>): void {
  app.decorateRequest('arrivedAt', 0);
  app.addHook('onRequest', async (request) => {
    request.arrivedAt = performance.now();
  });
  // Host, Origin and token, on every route and WebSocket upgrade (registered after
  // @fastify/websocket's own hook, which marks upgrade requests).
  app.addHook('onRequest', guard);
  app.addHook('onResponse', async (_request, reply) => {
    ctx.service.metrics.recordHttp(reply.statusCode);
  });

  app.removeAllContentTypeParsers();
  // Image bodies arrive as bytes.
  app.addContentTypeParser(ACCEPTED_TYPES, { parseAs: 'buffer', bodyLimit: ctx.maxBodyBytes }, (_request, body, done) => done(null, body));
  // Any other type (or none) is left unread and refused by the route, naming the type.
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, NOT_AN_IMAGE));

  app.setErrorHandler((error, _request, reply) => {
    const { status, body, retryAfter } = describeError(error);
    if (status >= 500) ctx.onError(error, 'request');
    if (retryAfter !== undefined) void reply.header('retry-after', String(retryAfter));
    if (status === 401) void reply.header('www-authenticate', 'Bearer realm="samstar"');
    void reply.code(status).send({ error: body });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}`, hint: `routes: ${ROUTES}` } });
  });
}

/** The viewer page, /v1/health, /v1/policy and /metrics. */
function addInfoRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/', async (_request, reply) => {
    // no-referrer: the page's URL may carry ?token=.
    return reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', VIEWER_CSP)
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-store')
      .send(VIEWER_HTML);
  });

  app.get('/v1/health', async () => ({
    status: ctx.closing ? 'shutting-down' : 'ok',
    segmenter: ctx.options.segmenter.name,
    model: ctx.model,
    uptime_s: Math.round((Date.now() - ctx.service.metrics.started) / 100) / 10,
    frames: ctx.service.metrics.framesTotal,
    queue: { depth: ctx.service.scheduler.depth, busy: ctx.service.scheduler.busy, request_limit: ctx.service.scheduler.options.requestQueue, stream_buffer: ctx.service.scheduler.options.streamBuffer },
    limits: {
      max_body_bytes: ctx.maxBodyBytes,
      max_pixels: ctx.service.limits.maxPixels,
      max_streams: ctx.maxStreams,
      client_connections: ctx.clients.options.connections,
      client_queue: ctx.clients.options.queued,
    },
    connections: { streams: ctx.streams.size, viewers: ctx.service.viewers.count },
    stream_protocol: STREAM_PROTOCOL,
  }));

  app.get('/v1/policy', async () =>
    withoutPaths({
      segmenter: ctx.options.segmenter.name,
      chooser: ctx.options.chooser.describe(),
      reward: ctx.options.reward ? { source: ctx.options.reward.config.source, terms: ctx.options.reward.terms.map((t) => t.name) } : null,
      knob_space: ctx.options.segmenter.knobs.toJSON(),
    }),
  );

  app.get('/metrics', async (_request, reply) => {
    const text = ctx.service.metrics.prometheus({
      queueDepth: ctx.service.scheduler.depth,
      busy: ctx.service.scheduler.busy,
      streams: ctx.streams.size,
      viewers: ctx.service.viewers.count,
    });
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(text);
  });
}

/** POST /v1/segment: one frame in the request body, through the shared queue, answered as JSON or a label PNG. */
function addSegmentRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/v1/segment', async (request: FastifyRequest<{ Querystring: Record<string, string | undefined> }>, reply: FastifyReply) => {
    if (ctx.closing) throw new ServeError(503, 'SHUTTING_DOWN', 'the server is shutting down', undefined, 5);
    const query = request.query ?? {};
    const unknown = Object.keys(query).filter((k) => k !== 'labels' && k !== 'token');
    if (unknown.length > 0) throw new ServeError(400, 'BAD_REQUEST', `unknown query parameter(s): ${unknown.join(', ')}`, 'the only ones are labels=png and token');
    if (query.labels !== undefined && query.labels !== 'png') {
      throw new ServeError(400, 'BAD_REQUEST', `labels=${query.labels}: the only label format is png`, 'use ?labels=png for the 16-bit label PNG, or no parameter for JSON');
    }
    const type = mediaType(request.headers['content-type']);
    const body = request.body;
    if (!Buffer.isBuffer(body)) {
      throw new ServeError(415, 'UNSUPPORTED_MEDIA_TYPE', `content type "${type || '(none)'}" is not an image type samstar reads`, `send ${ACCEPTED_TEXT}`);
    }
    const seq = ctx.service.nextSeq();
    const headerId = request.headers['x-frame-id'];
    const id = typeof headerId === 'string' && headerId.length > 0 ? headerId.slice(0, 200) : seq;
    const h = request.headers;
    const input = frameInput(type, { width: h['x-width'], height: h['x-height'], dtype: h['x-dtype'], channels: h['x-channels'] }, body, `request:${String(id)}`, ctx.service.limits);
    const frame = ctx.service.startDecode(input);
    let aborted = false;
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) aborted = true;
    });
    const outcome = await new Promise<Outcome | DropReason>((resolve, reject) => {
      try {
        ctx.service.scheduler.checkRoom(); // the global queue first (503 QUEUE_FULL) …
        const leave = ctx.clients.queueRequest(clientAddress(request.socket.remoteAddress), ctx.service.scheduler.retryAfterSeconds()); // … then this client's share
        ctx.service.scheduler.submitRequest({
          run: async () => {
            leave();
            resolve(await ctx.service.execute({ mode: 'request', id, seq, arrived: request.arrivedAt, labels: query.labels === 'png', frame }));
          },
          drop: (reason) => {
            leave();
            resolve(reason);
          },
          cancelled: () => aborted,
        });
      } catch (error) {
        if (error instanceof ServeError && error.status === 503) ctx.service.metrics.rejected++;
        reject(error);
        return;
      }
      void frame(); // decode while waiting in the queue
    });
    if (typeof outcome === 'string') {
      // The client went away before its turn (nobody reads this), or the server is shutting down.
      if (outcome === 'cancelled') return reply.code(499).send({ error: { code: 'BAD_REQUEST', message: 'the client closed the request before it was processed' } });
      ctx.service.metrics.rejected++;
      throw new ServeError(503, 'SHUTTING_DOWN', 'the server shut down before this frame was processed', undefined, 5);
    }
    if (!outcome.ok) return reply.code(outcome.status).send({ error: outcome.error, id: outcome.id, seq: outcome.seq });
    if (outcome.labelsPng) {
      const { json } = outcome;
      return reply
        .type('image/png')
        .header('x-frame-id', String(json.id))
        .header('x-seq', String(json.seq))
        .header('x-count', String(json.count))
        .header('x-knobs', JSON.stringify(json.knobs))
        .header('x-timings-ms', JSON.stringify({ segment: json.timings_ms.segment, total: json.timings_ms.total }))
        .send(Buffer.from(outcome.labelsPng.buffer, outcome.labelsPng.byteOffset, outcome.labelsPng.byteLength));
    }
    return reply.type('application/json; charset=utf-8').send(JSON.stringify(outcome.json));
  });
}

/** /v1/stream and /v1/viewer, counted against the per-client and global limits. */
function addSocketRoutes(app: FastifyInstance, ctx: ServerContext): void {
  /** Count a new WebSocket against its client's limit; closes it (1013) and returns false when over. */
  const countSocket = (socket: WebSocket, request: FastifyRequest): boolean => {
    const release = ctx.clients.openSocket(clientAddress(request.socket.remoteAddress));
    if (!release) {
      socket.close(1013, ctx.clients.socketRefusal());
      return false;
    }
    socket.on('close', release);
    return true;
  };

  // WebSocket routes; a plain GET on them is told to upgrade.
  const upgradeRequired = (what: string) => async (_request: FastifyRequest, reply: FastifyReply) =>
    reply.code(426).header('upgrade', 'websocket').send({ error: { code: 'UPGRADE_REQUIRED', message: `${what} is a WebSocket`, hint: 'connect with a WebSocket client (ws://host:port/…)' } });
  app.route({
    method: 'GET',
    url: '/v1/stream',
    handler: upgradeRequired('/v1/stream'),
    wsHandler: (socket, request) => {
      if (ctx.closing || ctx.streams.size >= ctx.maxStreams) {
        socket.close(ctx.closing ? 1001 : 1013, ctx.closing ? 'server shutting down' : `at most ${ctx.maxStreams} ctx.streams`);
        return;
      }
      if (!countSocket(socket, request)) return;
      ctx.streams.add(socket);
      socket.on('close', () => ctx.streams.delete(socket));
      new StreamConnection(socket, ctx.service, () => ctx.closing);
    },
  });
  app.route({
    method: 'GET',
    url: '/v1/viewer',
    handler: upgradeRequired('/v1/viewer'),
    wsHandler: (socket, request) => {
      if (ctx.closing || ctx.service.viewers.count >= MAX_VIEWERS) {
        socket.close(ctx.closing ? 1001 : 1013, ctx.closing ? 'server shutting down' : `at most ${MAX_VIEWERS} viewers`);
        return;
      }
      if (!countSocket(socket, request)) return;
      ctx.service.viewers.add(socket);
    },
  });
}

/** Graceful shutdown, once: refuse new frames, drop queued ones, finish the running one, close sockets and the app. */
function shutdown(app: FastifyInstance, ctx: ServerContext): () => Promise<void> {
  let closed: Promise<void> | null = null;
  return () => {
    closed ??= (async () => {
      ctx.closing = true;
      ctx.service.scheduler.dropAll('shutdown');
      // The frame being segmented finishes and is answered (bounded wait).
      await Promise.race([ctx.service.scheduler.idle(), new Promise((resolve) => setTimeout(resolve, 30_000).unref())]);
      for (const s of ctx.streams) s.close(1001, 'server shutting down');
      ctx.service.viewers.closeAll(1001, 'server shutting down');
      await app.close();
      if (ctx.options.disposeSegmenter) await ctx.options.segmenter.dispose();
    })();
    return closed;
  };
}

export { isLoopback } from './guard.js';
