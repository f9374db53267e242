import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The shipped model's record must name the files that ship: training.json (written by the export)
// and the model card's file table both carry each ONNX file's size and sha256. A card that kept an
// earlier export's hashes after the files were replaced went unnoticed once; this catches it.

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'models', 'learned');

describe('models/learned record', () => {
  const record = JSON.parse(readFileSync(join(dir, 'training.json'), 'utf8')) as { files: Record<string, { bytes: number; sha256: string }> };
  const card = readFileSync(join(dir, 'README.md'), 'utf8');

  for (const file of ['encoder.onnx', 'decoder.onnx']) {
    it(`training.json and the model card give ${file}'s real size and sha256`, () => {
      const bytes = readFileSync(join(dir, file));
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      expect(record.files[file]).toEqual({ bytes: bytes.length, sha256 });
      // Card row: | encoder.onnx | 1 983 014 | `sha256` |  (thousands grouped with spaces)
      const row = card.split('\n').find((line) => line.startsWith(`| ${file} |`));
      expect(row, `no row for ${file} in models/learned/README.md`).toBeDefined();
      const [, , size, hash] = row!.split('|').map((cell) => cell.trim());
      expect(Number(size.replace(/\s/g, ''))).toBe(bytes.length);
      expect(hash.replace(/`/g, '')).toBe(sha256);
    });
  }
});
