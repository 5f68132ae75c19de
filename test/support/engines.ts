import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabase, type DatabaseHandle } from '../../src/server/db/database';

export type TestEngine = 'sqlite' | 'postgres';

/** SQLite always; PostgreSQL too when TEST_DATABASE_URL is set (CI sets it). */
export function testEngines(): TestEngine[] {
  return process.env.TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];
}

/** A fresh PostgreSQL database for one test file, dropped by the returned function. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = process.env.TEST_DATABASE_URL!;
  const name = `tg_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/**
 * An empty database of its own for one test file, on either engine (not migrated): a fresh PostgreSQL
 * database, or a SQLite file in a temporary folder. `close` closes it and removes it.
 */
export async function openTestDatabase(engine: TestEngine, name = 'db'): Promise<{ database: DatabaseHandle; close(): Promise<void> }> {
  if (engine === 'postgres') {
    const pgDatabase = await createPostgresDatabase();
    const database = openDatabase({ databaseUrl: pgDatabase.url, dataDir: '.' });
    return {
      database,
      async close() {
        await database.close();
        await pgDatabase.drop();
      },
    };
  }
  const dir = mkdtempSync(path.join(tmpdir(), `tenantgate-${name}-`));
  const database = openDatabase({ dataDir: dir });
  return {
    database,
    async close() {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
