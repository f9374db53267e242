import type { SearchBounds } from '../../agents/types.js';
import type { KnobSpace } from '../segmenters/knobs.js';

/** `space.searchBounds()` (src/segmenters/knobs.ts), kept at this path for its callers. */
export function searchBounds(space: KnobSpace): SearchBounds {
  return space.searchBounds();
}
