import { describe, expect, it } from 'vitest';
import { sizeSpecOf } from '../../src/report/visuals.js';

describe("the report's size target", () => {
  it("is the size term's fixed target, and none for median: auto (no single curve fits pooled frames)", () => {
    const fixed = { distribution: 'lognormal', median: 12, sigma: 0.3 };
    expect(sizeSpecOf([{ name: 'size', type: 'size', params: { target: fixed } }]).target).toEqual(fixed);
    const auto = sizeSpecOf([{ name: 'size', type: 'size', params: { target: { distribution: 'lognormal', median: 'auto', sigma: 0.3 } } }]);
    expect(auto.target).toBeNull();
    expect(auto.property).toBe('equivalent_diameter');
    expect(sizeSpecOf([{ name: 'shape', type: 'shape', params: {} }]).target).toBeNull();
  });
});
