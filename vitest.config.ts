import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // LanceDB is a native module: separate processes keep one test file's
    // handles from ever meeting another's.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: { LANCEDB_LOG: 'error', MEMLANE_LOG_LEVEL: 'warn' },
  },
});
