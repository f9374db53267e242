// The statistics moved to src/compare/stats.ts (compare computes them, report shows them; below both, no import loop).
// Kept for the callers of this path.
export * from '../compare/stats.js';
