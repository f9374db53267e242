/**
 * Import time of the package entry against its sub-path exports, as a library user sees it:
 * each import runs in a fresh Node process that resolves the package by name (a scratch
 * folder whose node_modules/samstar links to this checkout, so package.json `exports` is what
 * resolves), from the compiled dist/ (run `npm run build` first). 7 processes per entry, the
 * median reported; the ratio entry / sub-path is measured in this one run.
 *
 * `npm run bench -- imports`
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineLine, median } from './_machine.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const REPEATS = 7;
/** What is imported, and one name it must export (so a wrong resolution fails, not times). */
const ENTRIES: readonly [specifier: string, name: string][] = [
  ['samstar', 'loadFrame'],
  ['samstar/agents/cmaes', 'CmaEs'],
  ['samstar/agents', 'AGENTS'],
  ['samstar/rewards', 'compileReward'],
  ['samstar/measure', 'measureLabels'],
];

function timeImport(cwd: string, specifier: string, name: string): number {
  const script = `const t=performance.now();const m=await import(${JSON.stringify(specifier)});const ms=performance.now()-t;if(!(${JSON.stringify(name)} in m))throw new Error('missing export');console.log(ms);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`import ${specifier} failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}

export async function run(): Promise<void> {
  if (!existsSync(join(root, 'dist', 'src', 'index.js'))) throw new Error('dist/ is missing: run npm run build first');
  const scratch = mkdtempSync(join(tmpdir(), 'samstar-imports-'));
  try {
    mkdirSync(join(scratch, 'node_modules'));
    symlinkSync(root, join(scratch, 'node_modules', 'samstar'), 'dir');
    const figures: Record<string, number> = {};
    for (const [specifier, name] of ENTRIES) {
      const times = Array.from({ length: REPEATS }, () => timeImport(scratch, specifier, name));
      figures[specifier] = median(times);
      process.stdout.write(`${specifier.padEnd(24)} median ${figures[specifier].toFixed(1)} ms over ${REPEATS} fresh processes\n`);
    }
    const ratio = figures.samstar / figures['samstar/agents/cmaes'];
    process.stdout.write(`package entry / samstar/agents/cmaes: ${ratio.toFixed(1)}×\n`);
    process.stdout.write(`${machineLine()}\n`);
    process.stdout.write(`${JSON.stringify({ bench: 'imports', repeats: REPEATS, median_ms: figures, entry_over_cmaes: +ratio.toFixed(2) })}\n`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
