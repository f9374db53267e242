// Writes the bundled samstar reference segmenter (samstar-ref; NOT SAM): models/reference/encoder.onnx
// and decoder.onnx. `npm run build:model` runs this file; `--out DIR` writes elsewhere. The bytes are
// a pure function of the source code, so re-running it must not change the committed files.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDecoder } from './decoder-graph.js';
import { buildEncoder } from './encoder-graph.js';

export interface GeneratedFile {
  path: string;
  bytes: number;
  sha256: string;
}

/** The repository root: the nearest folder above this file with a package.json (works from src/ and dist/). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('samstar-ref generate: no package.json above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

export function defaultModelDir(): string {
  return join(repoRoot(), 'models', 'reference');
}

/** Builds both graphs and writes encoder.onnx and decoder.onnx into `outDir` (created if missing). */
export function generateReferenceModel(outDir: string = defaultModelDir()): GeneratedFile[] {
  mkdirSync(outDir, { recursive: true });
  const files: Array<[string, Uint8Array]> = [
    ['encoder.onnx', buildEncoder({ layout: 'nchw' })],
    ['decoder.onnx', buildDecoder()],
  ];
  return files.map(([name, bytes]) => {
    const path = join(outDir, name);
    writeFileSync(path, bytes);
    return { path, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  });
}

function main(argv: string[]): void {
  const at = argv.indexOf('--out');
  if (at >= 0 && !argv[at + 1]) throw new Error('usage: generate.ts [--out DIR]');
  const outDir = at >= 0 ? resolve(argv[at + 1]!) : defaultModelDir();
  for (const f of generateReferenceModel(outDir)) console.log(`${f.path}  ${f.bytes} bytes  sha256 ${f.sha256}`);
}

const invokedPath = process.argv[1] ? resolve(process.argv[1]) : '';
if (invokedPath === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
