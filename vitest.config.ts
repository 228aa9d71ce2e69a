import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Two cores: more workers only make the broker and RocksDB tests fight for CPU.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        extends: true,
        // Integration tests share one broker; each file uses its own topic names, so files run in parallel.
        test: { name: 'integration', include: ['test/integration/**/*.test.ts'], globalSetup: ['test/support/build-dist.ts', 'test/support/global-setup.ts'] },
      },
    ],
  },
});
