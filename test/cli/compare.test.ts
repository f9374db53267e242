import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CompareSummary } from '../../src/compare/summary.js';
import { StudyStore } from '../../src/store/index.js';
import { writeTinyTask } from '../compare/tiny.js';
import { expectNumbersMatch } from '../report/html-numbers.js';
import { command as reportCommand } from '../../src/cli/commands/report.js';
import { runCli } from './run-cli.js';
import { captureOutput as captured } from '../fixtures/capture-output.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');


/**
 * `samstar compare` and `samstar report` end to end, as a user runs them: two tiny frames
 * (128², points_per_side 8), two agents × two seeds, a small budget.
 */
describe('samstar compare / samstar report (end to end)', () => {
  let dir: string;
  let config: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'samstar-cli-compare-'));
    config = await writeTinyTask(dir);
  });

  it('compares cmaes and random over 2 seeds: summary.json, summary.csv, report.html, plots, a study per run', () => {
    const out = join(dir, 'cmp');
    const r = runCli(['compare', '--config', config, '--agents', 'cmaes,random', '--seeds', '2', '--budget', '6', '--out', out, '--overlay-frames', '2']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/compare "tiny": 2 agent\(s\) × 2 seed\(s\), budget 6: complete/);
    expect(r.stdout).toMatch(/^cmaes\s+2\/2\s+\d\.\d{4} ± \d\.\d{4}/m);
    expect(r.stdout).toMatch(/^random\s+2\/2/m);
    expect(r.stderr).toContain('report.html');

    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as CompareSummary;
    expect(summary).toMatchObject({ format: 'samstar-compare', kind: 'compare', status: 'complete', agents: ['cmaes', 'random'], seeds: [1, 2], budget: 6 });
    expect(summary.runs).toHaveLength(4);
    for (const run of summary.runs) {
      expect(run.status).toBe('finished');
      expect(run.evaluations).toBe(6);
      expect(run.labelScores).not.toBeNull(); // the task has labels: each run's best knobs are scored
      const store = StudyStore.open(join(out, run.folder, 'study.sqlite'), { readonly: true });
      try {
        expect(store.evaluations(store.study().id)).toHaveLength(6);
      } finally {
        store.close();
      }
    }
    for (const a of summary.perAgent) {
      expect(a.best.n).toBe(2);
      expect(a.best.mean!).toBeGreaterThan(summary.default!.total);
      expect(a.labelScores!.msa.n).toBe(2);
    }
    expect(summary.tests).toHaveLength(1);
    expect(summary.sizes!.panels).toHaveLength(3);
    expect(summary.best!.total).toBe(Math.max(...summary.runs.map((x) => x.best!.total)));

    const csv = readFileSync(join(out, 'summary.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(3);
    const header = csv[0].split(',');
    expect(Number(csv[1].split(',')[header.indexOf('best_mean')])).toBe(summary.perAgent[0].best.mean);

    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(expectNumbersMatch(html, summary)).toBeGreaterThan(50);
    expect(html).toContain('data-status="complete"');
    for (const name of ['convergence', 'final-rewards', 'knobs', 'sizes']) {
      expect(existsSync(join(out, 'plots', `${name}.svg`)), name).toBe(true);
      expect(existsSync(join(out, 'plots', `${name}.png`)), name).toBe(true);
    }
    // Two frames × (default + 2 agents) overlays, in the page and as files.
    expect([...html.matchAll(/data-overlay="/g)]).toHaveLength(6);
    expect(existsSync(join(out, 'overlays', 'frame-0000.default.png'))).toBe(true);
  });

  it('samstar report renders the same report for one stored training run', async () => {
    const run = join(dir, 'cmp', 'runs', 'cmaes-seed1');
    // In this process (the CLI start-up was shown above): the command's handler with parsed arguments.
    const r = await captured(() => reportCommand.handler({ path: run, pictures: true, 'overlay-frames': 1, _: [], $0: 'samstar' } as never) as Promise<void>);
    expect(r.stdout.trim()).toMatch(/report\.html$/);
    const summary = JSON.parse(readFileSync(join(run, 'report.json'), 'utf8')) as CompareSummary;
    expect(summary).toMatchObject({ kind: 'study', status: 'complete', agents: ['cmaes'], seeds: [1] });
    const train = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8'));
    expect(summary.runs[0].best!.total).toBe(train.best.total);
    expect(summary.runs[0].labelScores).toEqual(train.best.labelScores);
    expect(summary.default!.total).toBe(train.default.total);
    const html = readFileSync(join(run, 'report.html'), 'utf8');
    expectNumbersMatch(html, summary);
    expect(html).toContain('id="default-vs-tuned-table"');
    expect(existsSync(join(run, 'plots', 'convergence.png'))).toBe(true);
  });

  it('Ctrl-C stops cleanly: exit 130, a partial summary.json and report.html, valid studies', async () => {
    const out = join(dir, 'cmp-interrupted');
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), 'compare', '--config', config, '--agents', 'cmaes,random', '--seeds', '2', '--budget', '10', '--out', out], {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    let stderr = '';
    let stdout = '';
    let sent = false;
    child.stdout.on('data', (chunk) => (stdout += String(chunk)));
    child.stderr.on('data', (chunk) => {
      stderr += String(chunk);
      // Interrupt as the second run starts.
      if (!sent && stderr.includes('run 2/4')) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(sent, stderr).toBe(true);
    expect(code, stderr).toBe(130);
    expect(stderr).toContain('stopping after the evaluation in flight');
    expect(stderr).toMatch(/--resume/);
    expect(stdout).toContain(': partial');
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as CompareSummary;
    expect(summary.status).toBe('partial');
    expect(summary.runs.find((x) => x.agent === 'cmaes' && x.seed === 1)!.status).toBe('finished');
    expect(summary.runs.filter((x) => x.status === 'not started').length).toBeGreaterThanOrEqual(2);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('data-status="partial"');
    expectNumbersMatch(html, summary);
  });
});
