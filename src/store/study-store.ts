import { existsSync, mkdirSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { SamstarError } from '../util/errors.js';
import { SCHEMA_V1, SCHEMA_VERSION, STORE_FORMAT, STUDY_STATUSES, type StudyStatus } from './schema.js';

/**
 * The SQLite study store (better-sqlite3, WAL): studies and every evaluation of
 * each. Each evaluation is committed on its own as soon as it is recorded (a
 * WAL commit costs tens of microseconds, nothing next to an evaluation), so a
 * killed run loses at most the evaluations still in flight; batches
 * (`recordEvaluations`, e.g. the candidates of a generation that finished
 * together) go in one transaction. Readers (`samstar studies`) never block the
 * writer.
 */
export interface NewStudy {
  readonly name: string;
  /** The resolved task config (anything JSON). */
  readonly config: unknown;
  readonly seed: number;
  readonly agent: string;
  readonly agentOptions?: unknown;
  /** The tuned knob space (KnobSpace.toJSON()). */
  readonly knobSpace: unknown;
  readonly budget?: number;
}

export interface DefaultResult {
  readonly total: number;
  readonly terms: Record<string, number>;
  /** Anything else worth keeping (per-frame totals, label scores, knob values). */
  readonly extra?: unknown;
}

export interface StudyInfo {
  readonly id: number;
  readonly name: string;
  readonly created: string;
  readonly updated: string;
  readonly status: StudyStatus;
  readonly seed: number;
  readonly agent: string;
  readonly agentOptions: unknown;
  readonly knobSpace: unknown;
  readonly config: unknown;
  readonly budget: number | null;
  readonly default: DefaultResult | null;
  readonly stopReasons: string[];
  readonly message: string | null;
  /** Process that last ran the study (status 'running' with a dead pid means it was killed). */
  readonly pid: number | null;
  readonly host: string | null;
  /** Number of stored evaluations. */
  readonly evaluations: number;
  /** Evaluations whose total is NaN (failed or undefined). */
  readonly failed: number;
  /** The best finite total and its evaluation index (null before the first finite one). */
  readonly best: { readonly index: number; readonly total: number } | null;
}

export interface EvaluationRecord {
  /** 0-based position in the study (deterministic: the order of generation, then candidate). */
  readonly index: number;
  /** 0-based ask() round of the agent. */
  readonly generation: number;
  /** Position within that ask(). */
  readonly candidate: number;
  /** The agent's normalised point. */
  readonly x: number[];
  /** The knob values that were evaluated. */
  readonly knobs: Record<string, number | string>;
  /** NaN: failed or undefined reward. */
  readonly total: number;
  readonly terms: Record<string, number>;
  /** Frame indices (into the study's frame list) the evaluation used. */
  readonly frames: number[];
  /** Per-frame totals, same order as `frames`. */
  readonly perFrame?: number[];
  readonly ms: number;
  /** ISO time of completion. */
  readonly created: string;
  /** Why the evaluation failed, when it did. */
  readonly error?: string;
}

interface StudyRow {
  id: number;
  name: string;
  created: string;
  updated: string;
  status: StudyStatus;
  seed: number;
  agent: string;
  agent_options_json: string;
  knob_space_json: string;
  config_json: string;
  budget: number | null;
  default_total: number | null;
  default_terms_json: string | null;
  default_extra_json: string | null;
  stop_reasons_json: string;
  message: string | null;
  pid: number | null;
  host: string | null;
  n: number;
  nan: number;
  best_idx: number | null;
  best_total: number | null;
}

interface EvaluationRow {
  idx: number;
  generation: number;
  candidate: number;
  x_json: string;
  knobs_json: string;
  total: number | null;
  terms_json: string;
  frames_json: string;
  per_frame_json: string | null;
  ms: number;
  created: string;
  error: string | null;
}

export interface OpenStoreOptions {
  /** Create the file (and its folder) when it does not exist. Default true (false when readonly). */
  readonly create?: boolean;
  readonly readonly?: boolean;
}

const STUDY_SELECT = `
  SELECT s.*,
    (SELECT count(*) FROM evaluations e WHERE e.study_id = s.id) AS n,
    (SELECT count(*) FROM evaluations e WHERE e.study_id = s.id AND e.total IS NULL) AS nan,
    (SELECT e.idx FROM evaluations e WHERE e.study_id = s.id AND e.total IS NOT NULL ORDER BY e.total DESC, e.idx ASC LIMIT 1) AS best_idx,
    (SELECT max(e.total) FROM evaluations e WHERE e.study_id = s.id) AS best_total
  FROM studies s`;

export class StudyStore {
  private closed = false;
  private insertEvaluation?: Database.Statement;
  private touchStudy?: Database.Statement;

  private constructor(
    readonly path: string,
    private readonly db: Database.Database,
    readonly readonly: boolean,
  ) {}

  /** Open (or create) a study store file. Throws a SamstarError for a file that is not one. */
  static open(path: string, options: OpenStoreOptions = {}): StudyStore {
    const readonly = options.readonly ?? false;
    const create = options.create ?? !readonly;
    const exists = existsSync(path);
    if (!exists && !create) {
      throw new SamstarError('IO_ERROR', `no study store at ${path}`, { hint: 'give the study.sqlite of a run folder (samstar studies DIR lists them)' });
    }
    if (exists && statSync(path).isDirectory()) {
      throw new SamstarError('ARGUMENT_INVALID', `${path} is a folder, not a study store file`, { hint: 'give the study.sqlite file inside it' });
    }
    if (!exists) mkdirSync(dirname(path), { recursive: true });
    let db: Database.Database;
    try {
      db = new Database(path, { readonly, fileMustExist: !create });
    } catch (error) {
      throw new SamstarError('IO_ERROR', `cannot open study store ${path}: ${(error as Error).message}`, { cause: error });
    }
    try {
      const store = new StudyStore(path, db, readonly);
      store.prepare();
      return store;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  private prepare(): void {
    const notAStudy = (why: string, cause?: unknown): SamstarError =>
      new SamstarError('IO_ERROR', `${this.path} is not a samstar study store (${why})`, {
        hint: 'give the study.sqlite written by samstar train',
        cause,
      });
    let tables: string[];
    try {
      tables = this.db
        .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
        .all()
        .map((r) => r.name);
    } catch (error) {
      const message = (error as Error).message;
      throw notAStudy(/not a database|file is encrypted/i.test(message) ? 'not an SQLite database' : message, error);
    }
    if (tables.length === 0) {
      if (this.readonly) throw notAStudy('an empty database');
      this.db.pragma('journal_mode = WAL');
      this.initialise();
    } else if (!tables.includes('meta')) {
      throw notAStudy(`an SQLite database with other tables: ${tables.slice(0, 5).join(', ')}`);
    }
    const meta = new Map(
      this.db
        .prepare<[], { key: string; value: string }>('SELECT key, value FROM meta')
        .all()
        .map((r) => [r.key, r.value]),
    );
    if (meta.get('format') !== STORE_FORMAT) throw notAStudy(`format "${meta.get('format') ?? 'none'}"`);
    const version = Number(meta.get('schema_version'));
    if (!Number.isInteger(version) || version < 1) throw notAStudy(`schema version "${meta.get('schema_version')}"`);
    if (version > SCHEMA_VERSION) {
      throw new SamstarError('IO_ERROR', `${this.path} has study store schema version ${version}; this samstar reads up to ${SCHEMA_VERSION}`, {
        hint: 'upgrade samstar to read this study',
      });
    }
    if (!this.readonly) {
      // WAL: readers never block the writer; NORMAL sync is durable against a killed process.
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
    }
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
  }

  private initialise(): void {
    this.db.transaction(() => {
      this.db.exec(SCHEMA_V1);
      const insert = this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
      insert.run('format', STORE_FORMAT);
      insert.run('schema_version', String(SCHEMA_VERSION));
      insert.run('created', new Date().toISOString());
    })();
  }

  /** The journal mode SQLite reports ('wal' for a writable store). */
  journalMode(): string {
    return String(this.db.pragma('journal_mode', { simple: true }));
  }

  schemaVersion(): number {
    return Number(this.db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'schema_version'").get()?.value);
  }

  createStudy(study: NewStudy): StudyInfo {
    this.writable();
    const now = new Date().toISOString();
    const existing = this.db.prepare<[string], { id: number }>('SELECT id FROM studies WHERE name = ?').get(study.name);
    if (existing) {
      throw new SamstarError('ARGUMENT_INVALID', `${this.path} already holds a study named "${study.name}"`, {
        hint: 'resume it (samstar train --resume) or choose another name or --out folder',
      });
    }
    const result = this.db
      .prepare(
        `INSERT INTO studies (name, created, updated, status, seed, agent, agent_options_json, knob_space_json, config_json, budget)
         VALUES (?, ?, ?, 'created', ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        study.name,
        now,
        now,
        study.seed,
        study.agent,
        JSON.stringify(study.agentOptions ?? {}),
        JSON.stringify(study.knobSpace),
        JSON.stringify(study.config),
        study.budget ?? null,
      );
    return this.study(Number(result.lastInsertRowid));
  }

  /** All studies in the file, oldest first. */
  studies(): StudyInfo[] {
    return this.db
      .prepare<[], StudyRow>(`${STUDY_SELECT} ORDER BY s.id`)
      .all()
      .map(toStudyInfo);
  }

  /** One study by id or name; without an argument, the file's only study. */
  study(which?: number | string): StudyInfo {
    if (which === undefined) {
      const all = this.studies();
      if (all.length === 1) return all[0];
      throw new SamstarError('ARGUMENT_INVALID', all.length === 0 ? `${this.path} holds no study yet` : `${this.path} holds ${all.length} studies; name one`, {
        hint: all.length ? `studies: ${all.map((s) => s.name).join(', ')}` : undefined,
      });
    }
    const row =
      typeof which === 'number'
        ? this.db.prepare<[number], StudyRow>(`${STUDY_SELECT} WHERE s.id = ?`).get(which)
        : this.db.prepare<[string], StudyRow>(`${STUDY_SELECT} WHERE s.name = ?`).get(which);
    if (!row) {
      const names = this.db.prepare<[], { name: string }>('SELECT name FROM studies').all().map((r) => r.name);
      throw new SamstarError('ARGUMENT_INVALID', `${this.path} holds no study ${typeof which === 'number' ? `#${which}` : `"${which}"`}`, {
        hint: names.length ? `studies: ${names.join(', ')}` : undefined,
      });
    }
    return toStudyInfo(row);
  }

  /** Record one evaluation, committed at once. */
  recordEvaluation(studyId: number, evaluation: EvaluationRecord): void {
    this.recordEvaluations(studyId, [evaluation]);
  }

  /** Record several evaluations in one transaction (all or none). */
  recordEvaluations(studyId: number, evaluations: readonly EvaluationRecord[]): void {
    this.writable();
    this.insertEvaluation ??= this.db.prepare(
      `INSERT INTO evaluations (study_id, idx, generation, candidate, x_json, knobs_json, total, terms_json, frames_json, per_frame_json, ms, created, error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.touchStudy ??= this.db.prepare('UPDATE studies SET updated = ? WHERE id = ?');
    const insert = this.insertEvaluation;
    const touch = this.touchStudy;
    this.db.transaction(() => {
      for (const e of evaluations) {
        insert.run(
          studyId,
          e.index,
          e.generation,
          e.candidate,
          encodeJson(e.x),
          JSON.stringify(e.knobs),
          Number.isFinite(e.total) ? e.total : Number.isNaN(e.total) ? null : e.total,
          encodeJson(e.terms),
          JSON.stringify(e.frames),
          e.perFrame ? encodeJson(e.perFrame) : null,
          e.ms,
          e.created,
          e.error ?? null,
        );
      }
      touch.run(new Date().toISOString(), studyId);
    })();
  }

  /** Every stored evaluation of a study, in index order. */
  evaluations(studyId: number): EvaluationRecord[] {
    return this.db
      .prepare<[number], EvaluationRow>('SELECT * FROM evaluations WHERE study_id = ? ORDER BY idx')
      .all(studyId)
      .map(toEvaluation);
  }

  evaluationCount(studyId: number): number {
    return this.db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM evaluations WHERE study_id = ?').get(studyId)!.n;
  }

  setStatus(studyId: number, status: StudyStatus, details: { stopReasons?: readonly string[]; message?: string | null; budget?: number } = {}): void {
    this.writable();
    if (!STUDY_STATUSES.includes(status)) throw new SamstarError('ARGUMENT_INVALID', `unknown study status "${status}"`);
    const sets = ['status = ?', 'updated = ?'];
    const values: unknown[] = [status, new Date().toISOString()];
    if (details.stopReasons !== undefined) {
      sets.push('stop_reasons_json = ?');
      values.push(JSON.stringify(details.stopReasons));
    }
    if (details.message !== undefined) {
      sets.push('message = ?');
      values.push(details.message);
    }
    if (details.budget !== undefined) {
      sets.push('budget = ?');
      values.push(details.budget);
    }
    if (status === 'running') {
      sets.push('pid = ?', 'host = ?');
      values.push(process.pid, hostname());
    }
    this.db.prepare(`UPDATE studies SET ${sets.join(', ')} WHERE id = ?`).run(...values, studyId);
  }

  /** The reward of the default knobs, kept next to the run for comparison. */
  setDefault(studyId: number, result: DefaultResult): void {
    this.writable();
    this.db
      .prepare('UPDATE studies SET default_total = ?, default_terms_json = ?, default_extra_json = ?, updated = ? WHERE id = ?')
      .run(
        Number.isFinite(result.total) ? result.total : null,
        encodeJson(result.terms),
        result.extra === undefined ? null : JSON.stringify(result.extra),
        new Date().toISOString(),
        studyId,
      );
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private writable(): void {
    if (this.readonly) throw new SamstarError('ARGUMENT_INVALID', `study store ${this.path} was opened read-only`);
  }
}

/** Whether a process with this pid is alive on this machine. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The status to show: a study left 'running' by a process that no longer exists
 * (killed, machine crash) was interrupted.
 */
export function effectiveStatus(study: StudyInfo): StudyStatus {
  if (study.status !== 'running') return study.status;
  if (study.pid === process.pid) return 'running';
  if (study.host === hostname() && study.pid !== null && !processAlive(study.pid)) return 'interrupted';
  return 'running';
}

function toStudyInfo(row: StudyRow): StudyInfo {
  return {
    id: row.id,
    name: row.name,
    created: row.created,
    updated: row.updated,
    status: row.status,
    seed: row.seed,
    agent: row.agent,
    agentOptions: JSON.parse(row.agent_options_json),
    knobSpace: JSON.parse(row.knob_space_json),
    config: JSON.parse(row.config_json),
    budget: row.budget,
    default:
      row.default_terms_json === null
        ? null
        : {
            total: row.default_total ?? Number.NaN,
            terms: decodeJson(row.default_terms_json) as Record<string, number>,
            ...(row.default_extra_json ? { extra: JSON.parse(row.default_extra_json) } : {}),
          },
    stopReasons: JSON.parse(row.stop_reasons_json) as string[],
    message: row.message,
    pid: row.pid,
    host: row.host,
    evaluations: row.n,
    failed: row.nan,
    best: row.best_idx === null || row.best_total === null ? null : { index: row.best_idx, total: row.best_total },
  };
}

function toEvaluation(row: EvaluationRow): EvaluationRecord {
  return {
    index: row.idx,
    generation: row.generation,
    candidate: row.candidate,
    x: decodeJson(row.x_json) as number[],
    knobs: JSON.parse(row.knobs_json) as Record<string, number | string>,
    total: row.total ?? Number.NaN,
    terms: decodeJson(row.terms_json) as Record<string, number>,
    frames: JSON.parse(row.frames_json) as number[],
    ...(row.per_frame_json ? { perFrame: decodeJson(row.per_frame_json) as number[] } : {}),
    ms: row.ms,
    created: row.created,
    ...(row.error !== null ? { error: row.error } : {}),
  };
}

const NON_FINITE: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };

/** JSON that keeps NaN and ±Infinity (as strings); finite doubles round-trip exactly. */
export function encodeJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}

export function decodeJson(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => (typeof v === 'string' && v in NON_FINITE ? NON_FINITE[v] : v));
}
