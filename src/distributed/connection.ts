import type { RedisOptions } from 'bullmq';
import { SamstarError } from '../util/errors.js';

/**
 * The Redis connection every distributed piece shares: a `redis://` or
 * `rediss://` (TLS) URL with optional user, password and database, turned into
 * connection options that BullMQ and our own ioredis clients use, with one reconnect
 * policy: exponential back-off (100 ms doubling, at most 2 s between tries)
 * until `reconnectLimitMs` have passed without a connection, then `onGiveUp`
 * once and no more tries (the caller turns that into a clear error).
 */
export interface RedisTarget {
  readonly url: string;
  /** Give up reconnecting after this long without Redis (default 60 s). */
  readonly reconnectLimitMs?: number;
}

export const DEFAULT_RECONNECT_LIMIT_MS = 60_000;

/** The URL with its password masked, for messages and logs. */
export function describeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable Redis URL)';
  }
}

/** ioredis options from a URL (validated), with the shared reconnect policy. */
export function redisOptions(target: RedisTarget, onGiveUp: (error: SamstarError) => void): RedisOptions {
  let u: URL;
  try {
    u = new URL(target.url);
  } catch {
    throw new SamstarError('ARGUMENT_INVALID', `--redis: "${describeRedisUrl(target.url)}" is not a URL`, { hint: 'give redis://[user:password@]host[:port][/db], or rediss://… for TLS' });
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new SamstarError('ARGUMENT_INVALID', `--redis: the URL must start with redis:// or rediss:// (got ${u.protocol}//)`, { hint: 'rediss:// connects with TLS' });
  }
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) {
    throw new SamstarError('ARGUMENT_INVALID', `--redis: database "${u.pathname.slice(1)}" in ${describeRedisUrl(target.url)} is not a whole number`, { hint: 'redis://host:6379/0' });
  }
  const limit = target.reconnectLimitMs ?? DEFAULT_RECONNECT_LIMIT_MS;
  // One failure streak for all the connections of this target (BullMQ opens several).
  let since: number | undefined;
  let gaveUp = false;
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    db,
    ...(u.protocol === 'rediss:' ? { tls: { servername: u.hostname } } : {}),
    // BullMQ's workers need commands to wait through a reconnection instead of failing after N retries.
    maxRetriesPerRequest: null,
    retryStrategy: (times: number): number | null => {
      const now = Date.now();
      if (times === 1 || since === undefined) since = now;
      if (gaveUp || now - since > limit) {
        if (!gaveUp) {
          gaveUp = true;
          onGiveUp(
            new SamstarError('IO_ERROR', `lost the connection to Redis at ${describeRedisUrl(target.url)} and could not reconnect within ${limit < 10_000 ? (limit / 1000).toFixed(1) : Math.round(limit / 1000)} s`, {
              hint: 'check that redis-server runs and is reachable from this machine (host, port, password, TLS); every evaluation finished so far is stored',
            }),
          );
        }
        return null;
      }
      return Math.min(100 * 2 ** Math.min(times - 1, 5), 2000);
    },
  };
}

/** Wait for a clean-up step at most `ms` (closing a connection to a Redis that is away can wait forever); its failure is ignored. Resolves true when the step finished. */
export async function bounded(step: Promise<unknown>, ms = 2000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const finished = await Promise.race([step.then(() => true, () => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
  clearTimeout(timer);
  return finished;
}
