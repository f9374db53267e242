/**
 * The import checker behind layers.test.ts: every relative import of a
 * checked file must point into its own folder or a folder on a lower layer of
 * the table in docs/architecture.md (the fenced `layers` block: one layer per
 * line, top first, folders separated by spaces).
 *
 * Entry point: `checkImports(files, layers)` → the violations, empty when the
 * imports respect the order. Files are plain `{ path, source }` records (paths
 * relative to the repository root, with `/`), so the checker can be tested on
 * invented files as well as run on the repository.
 */
import { posix } from 'node:path';

export interface SourceFile {
  readonly path: string;
  readonly source: string;
}

export interface Violation {
  readonly file: string;
  readonly specifier: string;
  readonly why: string;
}

/** The `layers` block of a markdown document: folders per layer, the top layer first. */
export function parseLayers(markdown: string): string[][] {
  const block = /```layers\n([\s\S]*?)```/.exec(markdown);
  if (!block) throw new Error('no ```layers block in the document');
  return block[1]
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => line.split(/\s+/));
}

/**
 * Relative module specifiers of a TypeScript source: `import … from`, `export … from`,
 * side-effect `import '…'` and dynamic `import('…')`. Package imports are not layers.
 */
export function relativeImports(source: string): string[] {
  const found: string[] = [];
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\1/g;
  for (const match of source.matchAll(pattern)) found.push(match[2]);
  return found;
}

/** The folder (or single file, like src/index.ts) of the layer table a path belongs to: the longest matching entry. */
export function unitOf(path: string, layers: readonly (readonly string[])[]): string | undefined {
  let best: string | undefined;
  for (const unit of layers.flat()) {
    const inside = path === unit || path.startsWith(`${unit}/`);
    if (inside && (best === undefined || unit.length > best.length)) best = unit;
  }
  return best;
}

export function checkImports(files: readonly SourceFile[], layers: readonly (readonly string[])[]): Violation[] {
  const depth = new Map<string, number>();
  layers.forEach((line, i) => line.forEach((unit) => depth.set(unit, i)));
  const violations: Violation[] = [];
  for (const file of files) {
    const from = unitOf(file.path, layers);
    if (from === undefined) {
      violations.push({ file: file.path, specifier: '', why: 'its folder is not in the layer table of docs/architecture.md' });
      continue;
    }
    for (const specifier of relativeImports(file.source)) {
      const target = posix.normalize(posix.join(posix.dirname(file.path), specifier));
      const to = unitOf(target, layers);
      if (to === from) continue;
      if (to === undefined) {
        violations.push({ file: file.path, specifier, why: `${target} is in no folder of the layer table` });
      } else if (depth.get(to)! <= depth.get(from)!) {
        const where = depth.get(to) === depth.get(from) ? 'on the same layer as' : 'above';
        violations.push({ file: file.path, specifier, why: `${from} imports ${to}, which is ${where} it` });
      }
    }
  }
  return violations;
}
