import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkImports, parseLayers, relativeImports, type SourceFile } from './layers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Every .ts file below the checked top-level folders, as repository-relative `/` paths. */
function sources(): SourceFile[] {
  const out: SourceFile[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) out.push({ path: relative(root, path).split(sep).join('/'), source: readFileSync(path, 'utf8') });
    }
  };
  for (const top of ['src', 'envs', 'agents', 'rewards']) walk(join(root, top));
  return out;
}

describe('layers (docs/architecture.md)', () => {
  const layers = parseLayers(readFileSync(join(root, 'docs', 'architecture.md'), 'utf8'));

  it('every import of src/, envs/, agents/ and rewards/ points down the layer order', () => {
    const files = sources();
    expect(files.length).toBeGreaterThan(100);
    expect(checkImports(files, layers)).toEqual([]);
  });
});

describe('the layer checker', () => {
  const layers = [['src/index.ts'], ['src/report', 'src/serve'], ['src/compare'], ['rewards', 'src/segmenters'], ['src/measure'], ['src/util']];
  const check = (path: string, source: string) => checkImports([{ path, source }], layers);

  it('accepts imports within a folder and down the order, and ignores packages', () => {
    expect(check('src/measure/a.ts', "import { b } from './b.js';\nimport { z } from 'zod';\nimport { e } from '../util/errors.js';")).toEqual([]);
    expect(check('rewards/terms/size.ts', "import type { Measurements } from '../../src/measure/types.js';")).toEqual([]);
    expect(check('src/index.ts', "export { runCompare } from './compare/compare.js';")).toEqual([]);
  });

  it('reports an import against the order: upwards, sideways, hidden in a dynamic import() or a type-only import', () => {
    const up = check('src/measure/crops.ts', "import type { Segmentation } from '../segmenters/types.js';");
    expect(up).toEqual([{ file: 'src/measure/crops.ts', specifier: '../segmenters/types.js', why: 'src/measure imports src/segmenters, which is above it' }]);
    expect(check('rewards/types.ts', "import type { Segmenter } from '../src/segmenters/types.js';")[0].why).toBe('rewards imports src/segmenters, which is on the same layer as it');
    expect(check('src/compare/compare.ts', "const { buildReport } = await import('../report/report.js');")[0].why).toBe('src/compare imports src/report, which is above it');
    expect(check('src/serve/a.ts', "export * from '../report/b.js';")).toHaveLength(1);
  });

  it('reports files and import targets outside the table', () => {
    expect(check('src/newfolder/a.ts', '')[0].why).toMatch(/not in the layer table/);
    expect(check('src/measure/a.ts', "import '../newfolder/b.js';")[0].why).toMatch(/src\/newfolder\/b\.js is in no folder/);
  });

  it('finds every kind of relative import, multi-line ones included', () => {
    const source = ["import {\n  a,\n  b,\n} from './a.js';", "import './side.js';", "export { c } from '../c.js';", "const d = await import( '../d.js' );", "import x from 'pkg';"].join('\n');
    expect(relativeImports(source)).toEqual(['./a.js', './side.js', '../c.js', '../d.js']);
  });

  it('reads the layer block of a document', () => {
    expect(parseLayers('text\n```layers\nsrc/cli\nsrc/report src/serve\n\nsrc/util\n```\nmore')).toEqual([['src/cli'], ['src/report', 'src/serve'], ['src/util']]);
  });
});
