import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/server/db/database';
import { createPostgresDatabase, testEngines } from '../support/engines';

/**
 * A running instance keeps prepared statements (SQLite's statement cache, PostgreSQL's named statements)
 * while a migration, run by it or by another instance, changes a table under them.
 */
describe.each(testEngines())('prepared statements across a schema change on %s', (engine) => {
  let instance: DatabaseHandle;
  let other: DatabaseHandle;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    let options: { databaseUrl?: string; dataDir: string };
    if (engine === 'postgres') {
      const pg = await createPostgresDatabase();
      options = { databaseUrl: pg.url, dataDir: '.' };
      cleanup = pg.drop;
    } else {
      const dir = mkdtempSync(path.join(tmpdir(), 'tenantgate-schema-'));
      options = { dataDir: dir };
      cleanup = async () => rmSync(dir, { recursive: true, force: true });
    }
    instance = openDatabase(options);
    other = openDatabase(options);
  });
  afterAll(async () => {
    await instance?.close();
    await other?.close();
    await cleanup?.();
  });

  it('answers a select * with the new column after another instance added one, and keeps answering', async () => {
    await sql`create table probe (a integer)`.execute(other.db);
    await sql`insert into probe (a) values (1)`.execute(other.db);
    const select = async () => (await sql<{ a: number; b?: number | null }>`select * from probe`.execute(instance.db)).rows;
    // Often enough to be prepared (a named statement on PostgreSQL).
    for (let i = 0; i < 5; i++) expect(await select()).toEqual([{ a: 1 }]);

    await sql`alter table probe add column b integer`.execute(other.db);
    await sql`update probe set b = 2`.execute(other.db);

    expect(await select()).toEqual([{ a: 1, b: 2 }]);
    for (let i = 0; i < 5; i++) expect(await select()).toEqual([{ a: 1, b: 2 }]);
    // And in a transaction.
    const inTransaction = await instance.db.transaction().execute(async (trx) => (await sql<{ a: number; b: number }>`select * from probe`.execute(trx)).rows);
    expect(inTransaction).toEqual([{ a: 1, b: 2 }]);
  });

  it('recovers when the first use after the change is inside a transaction', async () => {
    await sql`create table probe2 (a integer)`.execute(other.db);
    await sql`insert into probe2 (a) values (1)`.execute(other.db);
    const inTransaction = () => instance.db.transaction().execute(async (trx) => (await sql<{ a: number; b?: string }>`select * from probe2`.execute(trx)).rows);
    for (let i = 0; i < 5; i++) expect(await inTransaction()).toEqual([{ a: 1 }]);
    await sql`alter table probe2 add column b text`.execute(other.db);
    // PostgreSQL has aborted a transaction by the time it refuses the statement, so that one may fail as a whole;
    // the connection that held the old statement is not used again.
    await inTransaction().catch((error: unknown) => expect(String(error)).toMatch(/cached plan must not change result type/));
    for (let i = 0; i < 3; i++) expect(await inTransaction()).toEqual([{ a: 1, b: null }]);
  });
});
