import { defineConfig } from 'vitest/config';

// Tests that disturb what every other test shares (PostgreSQL restarted as a whole): run alone, one file at a
// time, after the main `vitest run` (the last step of `npm test`).
export default defineConfig({
  test: {
    name: 'serial',
    include: ['test/serial/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
