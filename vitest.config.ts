import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores on the build machines: more workers only thrash ORT and sharp.
    maxWorkers: 2,
    // Test files share each worker's module cache: importing onnxruntime, sharp, tfjs and the
    // package anew for each of 115 files cost ~90 s of a ~200 s run. Test files restore what they
    // change (spies in finally blocks, servers and temp folders in afterAll), so they do not see
    // each other.
    isolate: false,
    // The pipeline mechanics run on the tiny hand-written model (instant encoder); the learned default
    // model has its own tests (test/segmenters/learned-model.test.ts), which name it explicitly.
    env: { SAMSTAR_MODEL: 'reference' },
  },
});
