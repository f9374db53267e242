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
 *
 * Policy agents count visits of one frame: their bar shows visits, and the
 * overall count and estimate weigh each visit as `weight` (1/S) of an
 * evaluation of S frames, so both stay in one unit of work.
 */
export interface CompareProgressOptions {
  readonly enabled?: boolean;
  /** Per agent: evaluations per run in its own unit (default: the budget). */
  readonly runBudget?: Readonly<Record<string, number>>;
  /** Per agent: evaluations of S frames one of its evaluations is worth (default 1; a policy visit: 1/S). */
  readonly weight?: Readonly<Record<string, number>>;
  /** Per agent: the word for its evaluations on its bar (e.g. "visits"; default none). */
  readonly unit?: Readonly<Record<string, string>>;
  readonly stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Clock in ms (tests). */
  readonly now?: () => number;
}

interface AgentState {
  done: number;
  total: number;
  weight: number;
  unit: string;
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
    for (const a of agents) {
      const state: AgentState = { done: 0, total: seeds * (options.runBudget?.[a] ?? budget), weight: options.weight?.[a] ?? 1, unit: options.unit?.[a] ?? '', best: null };
      this.agents.set(a, state);
      this.total += state.total * state.weight;
    }
    if (this.enabled && this.stream.isTTY) {
      this.multi = new cliProgress.MultiBar(
        { stream: this.stream, hideCursor: true, clearOnComplete: false, format: '{label} [{bar}] {value}/{total} | {info}', barsize: 30, autopadding: true },
        cliProgress.Presets.shades_classic,
      );
      const width = Math.max(7, ...agents.map((a) => a.length));
      for (const [name, state] of this.agents) state.bar = this.multi.create(state.total, 0, { label: name.padEnd(width), info: `${state.unit ? `${state.unit} · ` : ''}best —` });
      this.overall = this.multi.create(Math.round(this.total), 0, { label: 'overall'.padEnd(width), info: 'eta —' });
    }
  }

  /** Seconds left, from the mean live evaluation time (null before the first live evaluation). Counts are in evaluations of S frames. */
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
    this.done += step * state.weight;
    if (!replayed) {
      this.liveStarted ??= this.now();
      this.live += step * state.weight;
    }
    if (best !== null && Number.isFinite(best) && (state.best === null || best > state.best)) state.best = best;
    this.render(false);
  }

  /** A run ended after `evaluations` of its `budget` (both in the agent's own unit): its unused budget leaves the totals. */
  runEnd(agent: string, seed: number, evaluations: number, budget: number): void {
    const state = this.agents.get(agent);
    if (!state) return;
    const key = `${agent}:${seed}`;
    const counted = this.runDone.get(key) ?? 0;
    if (evaluations > counted) {
      state.done += evaluations - counted;
      this.done += (evaluations - counted) * state.weight;
      this.runDone.set(key, evaluations);
    }
    const unused = Math.max(0, budget - Math.max(evaluations, counted));
    state.total -= unused;
    this.total -= unused * state.weight;
    state.bar?.setTotal(state.total);
    this.overall?.setTotal(Math.round(this.total));
    // A plain line when the totals changed (the run stopped early); else the last line still holds.
    this.render(unused > 0);
  }

  line(): string {
    const percent = this.total ? Math.floor((100 * this.done) / this.total) : 100;
    const eta = this.eta();
    const agents = [...this.agents].map(([name, s]) => `${name} ${s.done}/${s.total}${s.unit ? ` ${s.unit}` : ''}${s.best !== null ? ` best ${s.best.toFixed(4)}` : ''}`).join(' · ');
    return `compare: ${count(this.done)}/${count(this.total)} evaluations (${percent} %)${eta !== null ? ` · about ${formatDuration(eta)} left` : ''} · ${agents}`;
  }

  private render(force: boolean): void {
    if (!this.enabled) return;
    if (this.multi) {
      for (const [, s] of this.agents) s.bar?.update(s.done, { info: `${s.unit ? `${s.unit} · ` : ''}best ${s.best !== null ? s.best.toFixed(4) : '—'}` });
      const eta = this.eta();
      this.overall?.update(Math.round(this.done), { info: `eta ${eta !== null ? formatDuration(eta) : '—'}` });
      return;
    }
    const step = Math.max(1, Math.floor(this.total / 10));
    if (force || Math.abs(this.done - this.total) < 1e-9 || Math.floor(this.done / step) !== Math.floor(this.lastLineAt / step)) {
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

/** A count that may be fractional (policy visits weigh 1/S): whole numbers as they are, else one decimal. */
function count(value: number): string {
  const rounded = Math.round(value * 10) / 10;
  return Number.isInteger(rounded) ? String(rounded) : rounded.toFixed(1);
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}
