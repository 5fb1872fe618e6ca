import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // LanceDB is a native module: separate processes keep one test file's
    // handles from ever meeting another's.
    pool: 'forks',
    // Object-store emulators (moto, Azurite, stock s3rver) for test/storage, once per run.
    globalSetup: ['test/helpers/emulators.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: { LANCEDB_LOG: 'error', MEMLANE_LOG_LEVEL: 'warn' },
  },
});
