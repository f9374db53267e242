import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** ../shared/data relative to the repository root (see ../shared/data/README.md). */
export const DATA_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/data');
export const HAVE_DATA = existsSync(DATA_DIR);
export const NO_DATA_MESSAGE = `real data not found at ${DATA_DIR}: skipping the tests that read it`;

export function dataPath(relative: string): string {
  return join(DATA_DIR, relative);
}

export const FIXTURES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures');
