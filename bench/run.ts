/**
 * `npm run bench -- NAME [args]` runs bench/NAME.ts. Each benchmark prints
 * human-readable lines and, as its last line, one JSON object of figures.
 * Ratios are measured within one run; absolute times are context only.
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.replace(/\.ts$/, ''));

const name = process.argv[2];
if (!name || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <${available.join('|')}>\n`);
  process.exit(2);
}
const module = (await import(`./${name}.ts`)) as { run: (args: string[]) => Promise<void> };
await module.run(process.argv.slice(3));
