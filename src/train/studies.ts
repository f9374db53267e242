import { existsSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { effectiveStatus, StudyStore, type EvaluationRecord, type StudyInfo } from '../store/index.js';
import { SamstarError } from '../util/errors.js';
import { bestOf, formatKnobs, improvementsOf } from './summary.js';
import type { ResolvedTask } from './task.js';

/** `samstar studies`: the stored runs under a folder (or in one file), and one run in detail. */
export interface StudyRow {
  readonly path: string;
  readonly name: string;
  readonly agent: string;
  readonly status: string;
  readonly evaluations: number;
  readonly budget: number | null;
  readonly best: number | null;
  readonly default: number | null;
  readonly failed: number;
  readonly updated: string;
}

/** Study store files: the file itself, or every *.sqlite under a folder (4 levels deep). */
export async function findStudyFiles(target: string): Promise<string[]> {
  if (!existsSync(target)) throw new SamstarError('IO_ERROR', `${target} does not exist`, { hint: 'give a run folder, a folder of runs, or a study.sqlite' });
  if (statSync(target).isFile()) return [target];
  const out: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const path = join(dir, e.name);
      if (e.isFile() && e.name.endsWith('.sqlite')) out.push(path);
      else if (e.isDirectory() && depth < 4) await walk(path, depth + 1);
    }
  };
  await walk(target, 0);
  return out.sort();
}

export async function listStudies(target: string): Promise<{ rows: StudyRow[]; skipped: { path: string; reason: string }[] }> {
  const files = await findStudyFiles(target);
  const single = files.length === 1 && files[0] === target;
  const rows: StudyRow[] = [];
  const skipped: { path: string; reason: string }[] = [];
  for (const path of files) {
    let store: StudyStore;
    try {
      store = StudyStore.open(path, { readonly: true });
    } catch (error) {
      if (single) throw error;
      skipped.push({ path, reason: (error as Error).message });
      continue;
    }
    try {
      for (const s of store.studies()) {
        rows.push({
          path,
          name: s.name,
          agent: s.agent,
          status: effectiveStatus(s),
          evaluations: s.evaluations,
          budget: s.budget,
          best: s.best?.total ?? null,
          default: s.default && Number.isFinite(s.default.total) ? s.default.total : null,
          failed: s.failed,
          updated: s.updated,
        });
      }
    } finally {
      store.close();
    }
  }
  return { rows, skipped };
}

export function formatStudyList(rows: readonly StudyRow[]): string {
  if (rows.length === 0) return 'no studies found';
  const header = ['name', 'agent', 'evals', 'best', 'default', 'status', 'path'];
  const table = rows.map((r) => [
    r.name,
    r.agent,
    r.budget !== null ? `${r.evaluations}/${r.budget}` : String(r.evaluations),
    r.best === null ? '—' : r.best.toFixed(4),
    r.default === null ? '—' : r.default.toFixed(4),
    r.status,
    r.path,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  return [line(header), ...table.map(line)].join('\n');
}

export interface StudyDetail {
  readonly path: string;
  readonly study: Omit<StudyInfo, 'config' | 'knobSpace'> & { readonly status: string };
  readonly tuned: string[];
  readonly frames: number;
  readonly best: { index: number; generation: number; knobs: Record<string, number | string>; total: number; terms: Record<string, number> } | null;
  readonly default: { total: number; terms: Record<string, number> } | null;
  readonly history: {
    readonly generations: { generation: number; evaluations: number; best: number | null; mean: number | null }[];
    readonly improvements: { index: number; total: number }[];
    readonly failures: { index: number; error: string }[];
    readonly meanEvaluationMs: number | null;
  };
}

export function showStudy(path: string, name?: string): StudyDetail {
  const store = StudyStore.open(path, { readonly: true });
  try {
    const info = store.study(name);
    const evaluations = store.evaluations(info.id);
    const task = info.config as Partial<ResolvedTask>;
    const tuned = Array.isArray(info.knobSpace) ? (info.knobSpace as { name: string }[]).map((s) => s.name) : [];
    const best = bestOf(evaluations);
    const { config: _config, knobSpace: _space, ...rest } = info;
    return {
      path,
      study: { ...rest, status: effectiveStatus(info) },
      tuned,
      frames: task.data?.frames?.length ?? 0,
      best: best
        ? { index: best.index, generation: best.generation, knobs: Object.fromEntries(tuned.map((n) => [n, best.knobs[n]])), total: best.total, terms: best.terms }
        : null,
      default: info.default ? { total: info.default.total, terms: info.default.terms } : null,
      history: history(evaluations),
    };
  } finally {
    store.close();
  }
}

function history(evaluations: readonly EvaluationRecord[]): StudyDetail['history'] {
  const byGeneration = new Map<number, EvaluationRecord[]>();
  for (const e of evaluations) {
    const list = byGeneration.get(e.generation) ?? [];
    list.push(e);
    byGeneration.set(e.generation, list);
  }
  const generations = [...byGeneration.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([generation, list]) => {
      const finite = list.map((e) => e.total).filter(Number.isFinite);
      return {
        generation,
        evaluations: list.length,
        best: finite.length ? Math.max(...finite) : null,
        mean: finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : null,
      };
    });
  const improvements = improvementsOf(evaluations);
  return {
    generations,
    improvements,
    failures: evaluations.filter((e) => Number.isNaN(e.total)).map((e) => ({ index: e.index, error: e.error ?? 'NaN reward' })),
    meanEvaluationMs: evaluations.length ? evaluations.reduce((a, e) => a + e.ms, 0) / evaluations.length : null,
  };
}

export function formatStudyDetail(detail: StudyDetail): string {
  const s = detail.study;
  const num = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : Number.isNaN(v) ? 'NaN' : v.toFixed(4));
  const lines = [
    `study "${s.name}" in ${detail.path}`,
    `  agent ${s.agent} ${JSON.stringify(s.agentOptions)}, seed ${s.seed}, ${detail.frames} frame(s), tuning ${detail.tuned.join(', ')}`,
    `  status ${s.status}${s.stopReasons.length ? ` (${s.stopReasons.join(', ')})` : ''}; ${s.evaluations}${s.budget !== null ? `/${s.budget}` : ''} evaluations, ${s.failed} NaN; created ${s.created}, updated ${s.updated}`,
  ];
  if (s.message) lines.push(`  message: ${s.message}`);
  lines.push(`  default total ${num(detail.default?.total)}${detail.default ? `  (${termsText(detail.default.terms)})` : ''}`);
  if (detail.best) {
    lines.push(`  best total    ${num(detail.best.total)}  (${termsText(detail.best.terms)})`);
    lines.push(`  best knobs (evaluation #${detail.best.index}, generation ${detail.best.generation}): ${formatKnobs(detail.best.knobs)}`);
  } else lines.push('  no finite reward yet');
  const h = detail.history;
  lines.push(`  history: ${h.generations.length} generation(s), mean ${h.meanEvaluationMs === null ? '—' : h.meanEvaluationMs.toFixed(0)} ms per evaluation`);
  lines.push(`  best so far: ${h.improvements.map((i) => `#${i.index} ${i.total.toFixed(4)}`).join(' → ') || '—'}`);
  if (h.failures.length) lines.push(`  NaN rewards: ${h.failures.slice(0, 5).map((f) => `#${f.index} (${f.error.split('\n')[0]})`).join('; ')}${h.failures.length > 5 ? '; …' : ''}`);
  return lines.join('\n');
}

function termsText(terms: Record<string, number>): string {
  return Object.entries(terms)
    .map(([k, v]) => `${k} ${Number.isNaN(v) ? 'NaN' : v.toFixed(3)}`)
    .join(', ');
}
