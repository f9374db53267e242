import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, StudyStore, decodeJson, encodeJson, type EvaluationRecord } from '../../src/store/index.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'samstar-store-'));

function evaluation(index: number, generation: number, candidate: number, total: number, extra: Partial<EvaluationRecord> = {}): EvaluationRecord {
  return {
    index,
    generation,
    candidate,
    x: [0.1 + index / 3, -1 / 3, 1e-17],
    knobs: { pred_iou_thresh: 0.1 + index / 7, prompts: 'grid' },
    total,
    terms: { msa: total, f1: 0.5 },
    frames: [0, 2],
    perFrame: [total, total],
    ms: 12.5,
    created: new Date(1_700_000_000_000 + index).toISOString(),
    ...extra,
  };
}

describe('StudyStore', () => {
  it('round-trips studies and evaluations exactly (NaN and ±Infinity included)', () => {
    const path = join(tmp(), 'runs', 'a', 'study.sqlite');
    const store = StudyStore.open(path);
    expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
    const config = { data: { frames: ['a.png'] }, nested: [1, 'x', null] };
    const study = store.createStudy({ name: 'demo', config, seed: 42, agent: 'cmaes', agentOptions: { popsize: 6 }, knobSpace: [{ name: 'pred_iou_thresh' }], budget: 10 });
    expect(study).toMatchObject({ name: 'demo', status: 'created', seed: 42, agent: 'cmaes', agentOptions: { popsize: 6 }, config, budget: 10, evaluations: 0, best: null, default: null });
    const records = [
      evaluation(0, 0, 0, 0.25),
      evaluation(1, 0, 1, Number.NaN, { error: 'reward is NaN', terms: { msa: Number.NaN, f1: Number.POSITIVE_INFINITY } }),
      evaluation(2, 1, 0, 0.75, { perFrame: undefined }),
    ];
    store.recordEvaluations(study.id, records.slice(0, 2));
    store.recordEvaluation(study.id, records[2]);
    store.setDefault(study.id, { total: 0.1, terms: { msa: 0.1, f1: Number.NaN }, extra: { labelScores: { msa: 0 } } });
    store.setStatus(study.id, 'finished', { stopReasons: ['budget'] });
    store.close();

    const again = StudyStore.open(path, { readonly: true });
    const stored = again.evaluations(study.id);
    expect(stored).toHaveLength(3);
    expect(stored[0]).toEqual(records[0]);
    expect(stored[1].total).toBeNaN();
    expect(stored[1].terms.msa).toBeNaN();
    expect(stored[1].terms.f1).toBe(Number.POSITIVE_INFINITY);
    expect(stored[1].error).toBe('reward is NaN');
    expect(stored[2]).toEqual({ ...records[2], perFrame: undefined });
    expect(stored[2].x[0]).toBe(0.1 + 2 / 3); // doubles survive JSON exactly
    const info = again.study('demo');
    expect(info).toMatchObject({ status: 'finished', stopReasons: ['budget'], evaluations: 3, failed: 1, best: { index: 2, total: 0.75 } });
    expect(info.default!.total).toBe(0.1);
    expect(info.default!.terms.f1).toBeNaN();
    expect(info.default!.extra).toEqual({ labelScores: { msa: 0 } });
    expect(again.studies().map((s) => s.name)).toEqual(['demo']);
    again.close();
  });

  it('uses WAL: a reader sees committed evaluations while the writer keeps the file open', () => {
    const path = join(tmp(), 'study.sqlite');
    const writer = StudyStore.open(path);
    expect(writer.journalMode()).toBe('wal');
    const { id } = writer.createStudy({ name: 's', config: {}, seed: 1, agent: 'random', knobSpace: [] });
    writer.recordEvaluation(id, evaluation(0, 0, 0, 1));
    expect(existsSync(`${path}-wal`)).toBe(true);
    const reader = StudyStore.open(path, { readonly: true });
    expect(reader.evaluationCount(id)).toBe(1);
    writer.recordEvaluation(id, evaluation(1, 0, 1, 2));
    expect(reader.evaluationCount(id)).toBe(2);
    reader.close();
    writer.close();
  });

  it('writes a batch all or nothing, and refuses duplicate (generation, candidate) or index', () => {
    const store = StudyStore.open(join(tmp(), 'study.sqlite'));
    const { id } = store.createStudy({ name: 's', config: {}, seed: 1, agent: 'random', knobSpace: [] });
    store.recordEvaluation(id, evaluation(0, 0, 0, 1));
    expect(() => store.recordEvaluations(id, [evaluation(1, 0, 1, 1), evaluation(2, 0, 0, 1)])).toThrow(/UNIQUE/);
    expect(store.evaluationCount(id)).toBe(1);
    expect(() => store.recordEvaluation(id, evaluation(0, 5, 0, 1))).toThrow(/UNIQUE|PRIMARY/);
    expect(() => store.createStudy({ name: 's', config: {}, seed: 1, agent: 'random', knobSpace: [] })).toThrow(/already holds a study named "s"/);
    const second = store.createStudy({ name: 't', config: {}, seed: 2, agent: 'grid', knobSpace: [] });
    expect(store.studies().map((s) => s.name)).toEqual(['s', 't']);
    expect(() => store.study()).toThrow(/holds 2 studies; name one/);
    expect(store.study(second.id).agent).toBe('grid');
    expect(() => store.study('u')).toThrow(/no study "u"/);
    store.close();
  });

  it('refuses files that are not study stores, with clear messages', () => {
    const dir = tmp();
    const text = join(dir, 'notes.sqlite');
    writeFileSync(text, 'this is not a database at all, just some text that is long enough to be a header '.repeat(20));
    expect(() => StudyStore.open(text)).toThrow(/notes\.sqlite is not a samstar study store \(not an SQLite database\)/);

    const other = join(dir, 'other.sqlite');
    const db = new Database(other);
    db.exec('CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT)');
    db.close();
    expect(() => StudyStore.open(other)).toThrow(/not a samstar study store \(an SQLite database with other tables: photos\)/);

    const future = join(dir, 'future.sqlite');
    StudyStore.open(future).close();
    const raw = new Database(future);
    raw.prepare("UPDATE meta SET value = '99' WHERE key = 'schema_version'").run();
    raw.close();
    expect(() => StudyStore.open(future)).toThrow(/schema version 99; this samstar reads up to 1/);

    expect(() => StudyStore.open(join(dir, 'missing.sqlite'), { readonly: true })).toThrow(/no study store at/);
    expect(existsSync(join(dir, 'missing.sqlite'))).toBe(false);
    mkdirSync(join(dir, 'folder.sqlite'));
    expect(() => StudyStore.open(join(dir, 'folder.sqlite'))).toThrow(/is a folder/);
  });

  it('encodes non-finite numbers in JSON and decodes them back', () => {
    const value = { a: Number.NaN, b: [Number.NEGATIVE_INFINITY, 1.5, Number.POSITIVE_INFINITY], c: 'text' };
    expect(decodeJson(encodeJson(value))).toEqual(value);
  });
});
