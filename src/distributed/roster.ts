import type { Redis } from 'ioredis';
import { keys, type WorkerInfo } from './protocol.js';

/**
 * The coordinator's view of the workers: those that announced themselves
 * (`ns:workers`) and whose heartbeat key still exists. A worker whose key has
 * been missing for `graceMs` (its lease expired: killed, frozen, or cut off)
 * is reported once in `died`; a worker whose key comes back before that (Redis
 * restarted and it beat again) never died.
 */
export class WorkerRoster {
  /** Live workers by id, with their last heartbeat. */
  readonly live = new Map<string, WorkerInfo>();
  private readonly missingSince = new Map<string, number>();

  constructor(
    private readonly redis: Redis,
    private readonly ns: string,
    private readonly graceMs: number,
  ) {}

  async refresh(): Promise<{ died: string[] }> {
    const ids = await this.redis.smembers(keys.workers(this.ns));
    const beats = ids.length ? await this.redis.mget(ids.map((id) => keys.worker(this.ns, id))) : [];
    const now = Date.now();
    const died: string[] = [];
    const seen = new Set<string>();
    ids.forEach((id, i) => {
      seen.add(id);
      const beat = beats[i];
      if (beat) {
        this.missingSince.delete(id);
        try {
          this.live.set(id, JSON.parse(beat) as WorkerInfo);
        } catch {
          this.live.set(id, { id } as WorkerInfo);
        }
        return;
      }
      const since = this.missingSince.get(id) ?? now;
      this.missingSince.set(id, since);
      if (now - since >= this.graceMs) {
        this.missingSince.delete(id);
        this.live.delete(id);
        died.push(id);
      }
    });
    // Gone from the set (left cleanly, or another coordinator buried it).
    for (const id of [...this.live.keys()]) {
      if (!seen.has(id)) {
        this.live.delete(id);
        died.push(id);
      }
    }
    return { died };
  }

  /** Drop a dead worker from the set (its queue was already dropped). */
  async forget(id: string): Promise<void> {
    await this.redis.srem(keys.workers(this.ns), id);
  }
}
