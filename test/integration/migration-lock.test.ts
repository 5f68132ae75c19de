import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/server/db/database';
import { migrationsApplied } from '../../src/server/db/migrate';
import { createPostgresDatabase, testEngines } from '../support/engines';
import { runScript, withProcessStarts } from '../support/portal-process';

describe.each(testEngines())('migration lock (%s)', (engine) => {
  it('three processes migrating one empty database at the same instant all succeed, and it is migrated once', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'tenantgate-migrate-'));
    const pgDb = engine === 'postgres' ? await createPostgresDatabase() : undefined;
    try {
      const env = { PATH: process.env.PATH ?? '', TENANTGATE_DATA_DIR: dataDir, MIGRATE_AT: String(Date.now() + 6_000), ...(pgDb ? { DATABASE_URL: pgDb.url } : {}) };
      const runs = [0, 1, 2].map(() => runScript('test/support/migrate-at.ts', env));
      const codes = await Promise.all(runs.map((r) => r.exited));
      expect(runs.map((r) => r.output().trim())).toEqual(['migrated', 'migrated', 'migrated']);
      expect(codes).toEqual([0, 0, 0]);
      const database = openDatabase({ databaseUrl: pgDb?.url, dataDir });
      try {
        expect(await migrationsApplied(database.db)).toBe(true);
      } finally {
        await database.close();
      }
    } finally {
      await pgDb?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, withProcessStarts(1, 30_000));
});
