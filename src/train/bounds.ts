import type { SearchBounds } from '../../agents/types.js';
import type { KnobSpace } from '../segmenters/knobs.js';

/**
 * The agent's view of a knob space: the box [−1, 1]^d, with the grid step of
 * each integer, choice or stepped float knob in normalised units (0 for
 * continuous knobs), so agents can treat discrete knobs honestly.
 */
export function searchBounds(space: KnobSpace): SearchBounds {
  const d = space.dimension;
  const steps = space.specs.map((s) => {
    switch (s.kind) {
      case 'choice':
        return s.choices.length > 1 ? 2 / (s.choices.length - 1) : 0;
      case 'int':
        return s.max > s.min ? 2 / (s.max - s.min) : 0;
      case 'float':
        return s.step && s.max > s.min ? (2 * s.step) / (s.max - s.min) : 0;
      default:
        return 0;
    }
  });
  return { low: new Array<number>(d).fill(-1), high: new Array<number>(d).fill(1), steps };
}
