import cliProgress from 'cli-progress';

/**
 * Progress of a comparison: a bar per agent and one overall, with an estimate
 * of the time left. On an interactive terminal: live bars (cli-progress); else
 * a plain line every 10 % of the evaluations and at the end of each run (so
 * logs stay readable). Always on stderr.
 *
 * The estimate uses live evaluations only (replayed ones cost nothing): the
 * mean time per evaluation so far × the evaluations left. A run that stops
 * before its budget (the agent converged, a grid ran out) gives its unused
 * budget back, so the estimate shrinks.
 */
export interface CompareProgressOptions {
  readonly enabled?: boolean;
  readonly stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Clock in ms (tests). */
  readonly now?: () => number;
}

interface AgentState {
  done: number;
  total: number;
  best: number | null;
  bar?: cliProgress.SingleBar;
}

export class CompareProgress {
  private readonly agents = new Map<string, AgentState>();
  private readonly stream: NodeJS.WritableStream & { isTTY?: boolean };
  private readonly now: () => number;
  private readonly enabled: boolean;
  private multi?: cliProgress.MultiBar;
  private overall?: cliProgress.SingleBar;
  private total = 0;
  private done = 0;
  private live = 0;
  private liveStarted: number | null = null;
  private lastLineAt = -1;
  /** Per-run evaluations counted so far (a run's `done` includes replayed ones). */
  private readonly runDone = new Map<string, number>();

  constructor(agents: readonly string[], seeds: number, budget: number, options: CompareProgressOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.now = options.now ?? (() => performance.now());
    this.enabled = options.enabled ?? true;
    for (const a of agents) this.agents.set(a, { done: 0, total: seeds * budget, best: null });
    this.total = agents.length * seeds * budget;
    if (this.enabled && this.stream.isTTY) {
      this.multi = new cliProgress.MultiBar(
        { stream: this.stream, hideCursor: true, clearOnComplete: false, format: '{label} [{bar}] {value}/{total} | {info}', barsize: 30, autopadding: true },
        cliProgress.Presets.shades_classic,
      );
      const width = Math.max(7, ...agents.map((a) => a.length));
      for (const [name, state] of this.agents) state.bar = this.multi.create(state.total, 0, { label: name.padEnd(width), info: 'best —' });
      this.overall = this.multi.create(this.total, 0, { label: 'overall'.padEnd(width), info: 'eta —' });
    }
  }

  /** Seconds left, from the mean live evaluation time (null before the first live evaluation). */
  eta(): number | null {
    if (this.live === 0 || this.liveStarted === null) return null;
    const perEvaluation = (this.now() - this.liveStarted) / this.live / 1000;
    return Math.max(0, (this.total - this.done) * perEvaluation);
  }

  get counts(): { done: number; total: number } {
    return { done: this.done, total: this.total };
  }

  runStart(): void {
    if (this.liveStarted === null) this.liveStarted = this.now();
  }

  evaluation(agent: string, seed: number, done: number, replayed: boolean, best: number | null): void {
    const state = this.agents.get(agent);
    if (!state) return;
    const key = `${agent}:${seed}`;
    const before = this.runDone.get(key) ?? 0;
    const step = Math.max(0, done - before);
    this.runDone.set(key, done);
    state.done += step;
    this.done += step;
    if (!replayed) {
      this.liveStarted ??= this.now();
      this.live += step;
    }
    if (best !== null && Number.isFinite(best) && (state.best === null || best > state.best)) state.best = best;
    this.render(false);
  }

  /** A run ended after `evaluations` of its `budget`: its unused budget leaves the totals. */
  runEnd(agent: string, seed: number, evaluations: number, budget: number): void {
    const state = this.agents.get(agent);
    if (!state) return;
    const key = `${agent}:${seed}`;
    const counted = this.runDone.get(key) ?? 0;
    if (evaluations > counted) {
      state.done += evaluations - counted;
      this.done += evaluations - counted;
      this.runDone.set(key, evaluations);
    }
    const unused = Math.max(0, budget - Math.max(evaluations, counted));
    state.total -= unused;
    this.total -= unused;
    state.bar?.setTotal(state.total);
    this.overall?.setTotal(this.total);
    // A plain line when the totals changed (the run stopped early); else the last line still holds.
    this.render(unused > 0);
  }

  line(): string {
    const percent = this.total ? Math.floor((100 * this.done) / this.total) : 100;
    const eta = this.eta();
    const agents = [...this.agents].map(([name, s]) => `${name} ${s.done}/${s.total}${s.best !== null ? ` best ${s.best.toFixed(4)}` : ''}`).join(' · ');
    return `compare: ${this.done}/${this.total} evaluations (${percent} %)${eta !== null ? ` · about ${formatDuration(eta)} left` : ''} · ${agents}`;
  }

  private render(force: boolean): void {
    if (!this.enabled) return;
    if (this.multi) {
      for (const [, s] of this.agents) s.bar?.update(s.done, { info: `best ${s.best !== null ? s.best.toFixed(4) : '—'}` });
      const eta = this.eta();
      this.overall?.update(this.done, { info: `eta ${eta !== null ? formatDuration(eta) : '—'}` });
      return;
    }
    const step = Math.max(1, Math.floor(this.total / 10));
    if (force || this.done === this.total || Math.floor(this.done / step) !== Math.floor(this.lastLineAt / step)) {
      if (this.done === this.lastLineAt && !force) return;
      this.stream.write(`${this.line()}\n`);
      this.lastLineAt = this.done;
    }
  }

  /** A message above the bars (or a plain line). */
  log(text: string): void {
    if (!this.enabled) return;
    if (this.multi) this.multi.log(`${text}\n`);
    else this.stream.write(`${text}\n`);
  }

  stop(): void {
    this.multi?.stop();
    this.multi = undefined;
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}
