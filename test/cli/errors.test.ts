// The CLI's exit codes: 2 when a model file the user named cannot be used (nothing was processed),
// 1 for other known errors, 70 for bugs (unexpected errors, printed with their stack).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { reportError } from '../../src/cli/errors.js';
import { SamstarError } from '../../src/util/errors.js';

describe('reportError', () => {
  afterEach(() => vi.restoreAllMocks());

  it('maps model errors to 2, other SamstarErrors to 1 and anything else to 70', () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
    for (const code of ['MODEL_INVALID', 'MODEL_LAYOUT_UNKNOWN', 'MODEL_NOT_FOUND'] as const) {
      expect(reportError(new SamstarError(code, `decoder x.onnx: ${code}`, { hint: 'h' }))).toBe(2);
    }
    expect(reportError(new SamstarError('KNOB_UNKNOWN', 'knob "x"'))).toBe(1);
    expect(reportError(new Error('boom'))).toBe(70);
    expect(written[0]).toBe('samstar: decoder x.onnx: MODEL_INVALID\n  hint: h\n');
    expect(written.at(-1)).toContain('unexpected error (please report it)');
  });
});
