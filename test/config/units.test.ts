import { describe, expect, it, vi } from 'vitest';
import { parseRewardConfig } from '../../rewards/config.js';
import { parseTaskConfig } from '../../src/config/task.js';
import { parsePixelSize } from '../../src/util/units.js';
import { thrown } from '../fixtures/thrown.js';

/** One pixel-size convention: a bare number is nm; "0.65um", "650 nm" and { value, unit } name their unit. */
const task = (data: Record<string, unknown>) => ({
  data: { frames: ['a.png'], ...data },
  segmenter: { name: 'sam', tune: ['pred_iou_thresh'] },
  reward: { terms: { coverage: { type: 'coverage' } }, total: 'coverage' },
  agent: 'random',
  budget: 1,
});

describe('pixel sizes', () => {
  it('parse to nanometres from every spelling', () => {
    expect(parsePixelSize(650, 'x')).toBe(650);
    expect(parsePixelSize('0.65um', 'x')).toBeCloseTo(650, 9);
    expect(parsePixelSize('0.65 µm', 'x')).toBeCloseTo(650, 9);
    expect(parsePixelSize('650 nm', 'x')).toBe(650);
    expect(parsePixelSize({ value: 2, unit: 'Å' }, 'x')).toBeCloseTo(0.2, 9);
    expect(parsePixelSize({ value: 0.001, unit: 'mm' }, 'x')).toBeCloseTo(1000, 9);
  });

  it('a bad unit or value is refused, naming the field, the value and the known units', () => {
    const e = thrown(() => parseTaskConfig(task({ pixel_size: '0.65 furlongs' })));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.describe()).toContain('data.pixel_size');
    expect(e.describe()).toContain('furlongs');
    expect(e.describe()).toContain('um');
    expect(thrown(() => parseTaskConfig(task({ pixel_size: -3 }))).describe()).toContain('> 0');
    const flag = thrown(() => parsePixelSize('0.5 parsecs', '--pixel-size', 'ARGUMENT_INVALID'));
    expect(flag.code).toBe('ARGUMENT_INVALID');
    expect(flag.message).toContain('--pixel-size');
    const reward = thrown(() => parseRewardConfig({ terms: { count: { type: 'count', expected_per_um2: 0.01, pixel_size: '3 inches' } }, total: 'count' }));
    expect(reward.describe()).toContain('terms.count.pixel_size');
  });

  it("task data.pixel_size takes units; the old data.pixelSize still works with a deprecation warning; both at once is an error", () => {
    expect(parseTaskConfig(task({ pixel_size: '0.65um', channel: 1 })).data).toMatchObject({ pixelSize: 650, channel: 1 });
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      expect(parseTaskConfig(task({ pixelSize: 650 })).data.pixelSize).toBe(650);
      expect(String(warn.mock.calls[0][0])).toContain('data.pixel_size');
    } finally {
      warn.mockRestore();
    }
    expect(thrown(() => parseTaskConfig(task({ pixelSize: 650, pixel_size: 650 }))).message).toContain('given twice');
  });

  it('--pixel-size and --channel (train) replace the config\'s values, old spelling included', () => {
    const data = parseTaskConfig(task({ pixelSize: 650, channel: 0 }), { overrides: { pixelSize: '1um', channel: 2 } }).data;
    expect(data).toMatchObject({ pixelSize: 1000, channel: 2 });
  });

  it('reward terms read pixel_size with a unit (kept as nm); unit um needs a pixel size', () => {
    const um = parseRewardConfig({ terms: { size: { type: 'size', unit: 'um', pixel_size: '0.5um', target: { distribution: 'normal', mean: 5, sd: 1 } } }, total: 'size' });
    const params = um.terms[0].params as { pixel_size: number; unit: string };
    expect(params.pixel_size).toBe(500);
    expect(params.unit).toBe('um');
    expect(thrown(() => parseRewardConfig({ terms: { size: { type: 'size', unit: 'um', target: { distribution: 'normal', mean: 5, sd: 1 } } }, total: 'size' })).describe()).toContain('pixel_size');
  });
});
