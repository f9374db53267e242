/**
 * Per-client limits: open WebSockets (/v1/stream and /v1/viewer together) and
 * waiting POST /v1/segment requests, counted per client address. The global
 * limits (--max-streams, --queue) keep the server alive; these keep one client
 * (a runaway script, a forgotten browser tab) from taking all of it, so the
 * instrument's own client still finds room. A request over its client's limit is
 * answered like one over the global queue, 503 with Retry-After (as nginx's
 * limit_req does), so clients that retry on 503 need nothing new.
 *
 * The address is the TCP peer's: behind a reverse proxy every client is the
 * proxy, so limit per client there (X-Forwarded-For is not trusted here, since
 * any client could write it).
 */
import { ServeError } from './errors.js';

export interface ClientLimitOptions {
  /** Open WebSockets per client address. */
  readonly connections: number;
  /** Requests per client address that may wait while another frame is segmented. */
  readonly queued: number;
}

/** The address a limit is counted against (IPv4-mapped IPv6 addresses as IPv4). */
export function clientAddress(remote: string | undefined): string {
  if (!remote) return 'unknown';
  return remote.startsWith('::ffff:') && remote.includes('.') ? remote.slice(7) : remote;
}

export class ClientLimits {
  private readonly sockets = new Map<string, number>();
  private readonly waiting = new Map<string, number>();

  constructor(readonly options: ClientLimitOptions) {
    for (const [name, value] of [['client connections', options.connections], ['client queue', options.queued]] as const) {
      if (!Number.isInteger(value) || value < 1) throw new ServeError(500, 'ARGUMENT_INVALID', `${name} must be an integer ≥ 1, got ${value}`);
    }
  }

  /**
   * Count one more WebSocket of `address`; null (and nothing counted) when it has
   * its limit open already, else the release function (call it once, on close).
   */
  openSocket(address: string): (() => void) | null {
    const open = this.sockets.get(address) ?? 0;
    if (open >= this.options.connections) return null;
    this.sockets.set(address, open + 1);
    return once(() => decrement(this.sockets, address));
  }

  /** Refusal reason of a WebSocket over the limit (a close reason: at most 123 bytes). */
  socketRefusal(): string {
    return `at most ${this.options.connections} WebSockets per client address`;
  }

  /**
   * Count one more waiting request of `address`, or throw 503 CLIENT_LIMIT (with
   * Retry-After) when it has its limit waiting already. Returns the release
   * function: call it when the request leaves the queue (run or dropped).
   */
  queueRequest(address: string, retryAfter: number): () => void {
    const n = this.waiting.get(address) ?? 0;
    if (n >= this.options.queued) {
      throw new ServeError(
        503,
        'CLIENT_LIMIT',
        `client ${address} already has ${n} request(s) waiting (limit ${this.options.queued} per client address)`,
        'wait for the answers before sending more (or retry after Retry-After seconds); the /v1/stream WebSocket drops stale frames instead of refusing',
        retryAfter,
      );
    }
    this.waiting.set(address, n + 1);
    return once(() => decrement(this.waiting, address));
  }

  /** Open WebSockets and waiting requests of one address (tests, health). */
  usage(address: string): { sockets: number; waiting: number } {
    return { sockets: this.sockets.get(address) ?? 0, waiting: this.waiting.get(address) ?? 0 };
  }
}

function decrement(map: Map<string, number>, key: string): void {
  const n = (map.get(key) ?? 1) - 1;
  if (n > 0) map.set(key, n);
  else map.delete(key);
}

function once(f: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    f();
  };
}
