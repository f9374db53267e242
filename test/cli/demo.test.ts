import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../src/demo/demo.js';

describe('the one-command demo', () => {
  it('tunes with a physics reward only and beats the default knobs on the hidden labels', async () => {
    const out = mkdtempSync(join(tmpdir(), 'samstar-demo-'));
    const result = await runDemo({ out, frames: 2, budget: 24, seed: 3 });
    expect(result.summary.evaluations).toBe(24);
    expect(result.scores.tuned.msa!).toBeGreaterThan(result.scores.default.msa!);
    expect(result.scores.tuned.f1).toBeGreaterThan(result.scores.default.f1);
    expect(result.summary.best!.total).toBeGreaterThan(result.summary.default!.total);
    for (const path of result.comparisons) expect(existsSync(path)).toBe(true);
    expect(existsSync(join(out, 'run', 'best-knobs.json'))).toBe(true);
  });
});
