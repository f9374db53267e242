import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores on the build machines: more workers only thrash ORT and sharp.
    maxWorkers: 2,
  },
});
