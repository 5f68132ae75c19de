import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { withStatementCache } from '../../src/server/db/database';
import { serializerCompiler } from '../../src/server/http/serializer';

describe('SQLite statement cache', () => {
  function counted() {
    const sqlite = new SQLite(':memory:');
    let prepared = 0;
    const prepare = sqlite.prepare.bind(sqlite);
    sqlite.prepare = ((text: string) => {
      prepared++;
      return prepare(text);
    }) as typeof sqlite.prepare;
    return { sqlite, prepared: () => prepared };
  }

  it('prepares each SQL text once and answers the same rows as better-sqlite3', async () => {
    const { sqlite, prepared } = counted();
    const db = new Kysely<{ t: { id: number; name: string | null } }>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
    await sql`create table t (id integer primary key, name text)`.execute(db);
    await db.insertInto('t').values([{ id: 1, name: 'a' }, { id: 2, name: null }]).execute();
    const before = prepared();
    for (let i = 0; i < 5; i++) expect(await db.selectFrom('t').selectAll().where('id', '>', 0).orderBy('id').execute()).toEqual([{ id: 1, name: 'a' }, { id: 2, name: null }]);
    expect(prepared() - before).toBe(1);
    expect(await db.selectFrom('t').select(['name as n', 'id']).where('id', '=', 2).executeTakeFirst()).toEqual({ n: null, id: 2 });
    await db.destroy();
  });

  it('follows a schema change under a cached `select *`, and keeps at most the given number of statements', async () => {
    const { sqlite, prepared } = counted();
    const db = new Kysely<{ t: { id: number; extra?: string } }>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite, 2) }) });
    await sql`create table t (id integer primary key)`.execute(db);
    await db.insertInto('t').values({ id: 1 }).execute();
    expect(await db.selectFrom('t').selectAll().execute()).toEqual([{ id: 1 }]);
    await sql`alter table t add column extra text default 'x'`.execute(db);
    expect(await db.selectFrom('t').selectAll().execute()).toEqual([{ id: 1, extra: 'x' }]);
    const before = prepared();
    await db.selectFrom('t').select('id').execute();
    await db.selectFrom('t').select('extra').execute();
    await db.selectFrom('t').selectAll().execute(); // dropped meanwhile: prepared again
    expect(prepared() - before).toBe(3);
    await db.destroy();
  });
});

describe('compiled response serializer', () => {
  const schema = z.object({
    id: z.string(),
    role: z.enum(['administrator', 'member']).nullable(),
    progress: z.object({ done: z.number(), total: z.number() }).nullable(),
    lastSyncedAt: z.string().nullable(),
    isOwner: z.boolean(),
    details: z.record(z.string(), z.unknown()).nullable(),
    note: z.string().optional(),
  });
  const serialize = serializerCompiler({ schema, method: 'GET', url: '/x', httpStatus: '200' } as never) as (data: unknown) => string;

  it('writes what the zod schema declares, the same as JSON of the parsed value', () => {
    for (const value of [
      { id: 'a', role: 'member', progress: { done: 1, total: 2 }, lastSyncedAt: '2026-01-01T00:00:00.000Z', isOwner: true, details: { from: 'member', n: 2, nested: { a: [1] } }, note: 'n"q' },
      { id: 'b', role: null, progress: null, lastSyncedAt: null, isOwner: false, details: null },
    ]) {
      expect(JSON.parse(serialize(value))).toEqual(JSON.parse(JSON.stringify(schema.parse(value))));
    }
  });

  it('never writes a property the schema does not declare', () => {
    const row = { id: 'a', role: 'member', progress: null, lastSyncedAt: null, isOwner: false, details: null, password_hash: 'scrypt$secret', activationToken: 'tok' };
    const out = serialize(row);
    expect(out).not.toContain('secret');
    expect(out).not.toContain('tok');
  });
});
