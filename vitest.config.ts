import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores on the build machines: more workers only thrash ORT and sharp.
    maxWorkers: 2,
    // The pipeline mechanics run on the tiny hand-written model (instant encoder); the learned default
    // model has its own tests (test/segmenters/learned-model.test.ts), which name it explicitly.
    env: { SAMSTAR_MODEL: 'reference' },
  },
});
