import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type PostgresPool, type PostgresPoolClient, type SqliteDatabase, type SqliteStatement } from 'kysely';
import pg from 'pg';
import type { Tables } from './tables';

export type Db = Kysely<Tables>;
export type Engine = 'sqlite' | 'postgres';

export interface DatabaseHandle {
  db: Db;
  engine: Engine;
  close(): Promise<void>;
}

/** The SQLite database's file name in the data folder (the backup copies it). */
export const SQLITE_FILE_NAME = 'tenantgate.sqlite';

/** Opens PostgreSQL when a URL is given, otherwise an SQLite file in the data folder. */
export function openDatabase(options: { databaseUrl?: string; dataDir: string; sqliteFile?: string }): DatabaseHandle {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10 });
    // Surface idle-client errors in the log instead of crashing the process.
    pool.on('error', (err) => console.error(`PostgreSQL pool error: ${err.message}`));
    // The pool listens for errors of idle clients only: a connection killed while checked out (between two
    // queries) would otherwise be an uncaught 'error' that ends the process. The query in flight fails by
    // itself (503 DATABASE_UNAVAILABLE), and the pool drops the dead client when it is released.
    pool.on('connect', (client) => client.on('error', () => undefined));
    const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool: withNamedStatements(pool) }) });
    return { db, engine: 'postgres', close: () => db.destroy() };
  }
  mkdirSync(options.dataDir, { recursive: true });
  const file = options.sqliteFile ?? path.join(options.dataDir, SQLITE_FILE_NAME);
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  // In WAL mode NORMAL stays corruption-safe and skips an fsync per commit (only the last commits
  // before a power loss can be lost); FULL made every small write wait for the disk.
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  return { db, engine: 'sqlite', close: () => db.destroy() };
}

/** Distinct SQL texts kept prepared; `in (?, ?, …)` lists of every length must not grow it without end. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely's SQLite driver prepares every query anew, which cost more than running most of them. This
 * hands it one prepared statement per SQL text instead (least recently used dropped beyond the limit).
 * Sharing is safe: the driver runs one query at a time on its single connection, and SQLite re-prepares
 * a statement by itself after a schema change.
 */
export function withStatementCache(database: SQLite.Database, size = STATEMENT_CACHE_SIZE): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => database.close(),
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (statement) {
        statements.delete(sql);
      } else {
        statement = withRowBuilder(database.prepare(sql));
        if (statements.size >= size) statements.delete(statements.keys().next().value!);
      }
      statements.set(sql, statement);
      return statement;
    },
  };
}

/**
 * Rows read as arrays and turned into objects by a function compiled for the statement's columns: half
 * the time better-sqlite3 takes to build the objects itself (one property at a time), for wide pages.
 */
function withRowBuilder(statement: SQLite.Statement): SqliteStatement {
  if (!statement.reader) return statement;
  let names: string[] = [];
  let build: (row: unknown[]) => unknown = () => ({});
  const compile = () => {
    names = statement.columns().map((c) => c.name);
    build = new Function('r', `return {${names.map((name, i) => `${JSON.stringify(name)}: r[${i}]`).join(', ')}};`) as typeof build;
  };
  compile();
  if (names.includes('__proto__')) return statement;
  statement.raw(true);
  // A schema change (a migration adding columns) changes what `select *` returns: compile again.
  const fresh = (row: unknown[]) => {
    if (row.length !== names.length) compile();
  };
  return {
    reader: true,
    all(parameters) {
      const rows = statement.all(parameters) as unknown[][];
      if (rows.length > 0) fresh(rows[0]);
      return rows.map(build);
    },
    run: (parameters) => statement.run(parameters),
    *iterate(parameters) {
      for (const row of statement.iterate(parameters) as IterableIterator<unknown[]>) {
        fresh(row);
        yield build(row);
      }
    },
  };
}

/** SQL texts run this often become named (server-side prepared) statements, at most NAMED_LIMIT of them. */
const NAMED_AFTER_RUNS = 3;
const NAMED_LIMIT = 200;

/**
 * PostgreSQL parses and plans an unnamed statement on every run. The hot ones (the session look-up and
 * the list pages) are sent as named statements instead, which each connection prepares once. The number
 * of names is bounded, as every connection keeps the statements it prepared until it closes. A statement
 * that outlived a schema change runs once more unnamed, and its connection is closed on release.
 */
function withNamedStatements(pool: pg.Pool): PostgresPool {
  const runs = new Map<string, number>();
  const names = new Map<string, string>();
  const nameFor = (sql: string): string | undefined => {
    const known = names.get(sql);
    if (known || names.size >= NAMED_LIMIT) return known;
    const count = (runs.get(sql) ?? 0) + 1;
    if (count < NAMED_AFTER_RUNS) {
      if (runs.size >= 10 * NAMED_LIMIT) runs.clear();
      runs.set(sql, count);
      return undefined;
    }
    runs.delete(sql);
    const name = `tg_${createHash('sha256').update(sql).digest('hex').slice(0, 24)}`;
    names.set(sql, name);
    return name;
  };
  const wrapped = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const wrap = (client: pg.PoolClient): PostgresPoolClient => {
    // Set once a statement this connection prepared outlived a schema change: the pool closes it on release,
    // and its successor prepares every statement afresh.
    let stale = false;
    const run = async (name: string, text: string, values?: unknown[]) => {
      try {
        return await client.query({ name, text, values });
      } catch (error) {
        if (!isStalePlan(error)) throw error;
        stale = true;
        // In a transaction the error has already aborted it: the transaction fails as a whole (and can be retried).
        if (client.getTransactionStatus() !== 'I') throw error;
        return client.query(text, values); // once, unnamed: planned against today's schema
      }
    };
    return {
      query: ((query: unknown, parameters?: unknown[]) => {
        if (typeof query !== 'string') return client.query(query as pg.Submittable);
        const name = nameFor(query);
        return name ? run(name, query, parameters) : client.query(query, parameters);
      }) as unknown as PostgresPoolClient['query'],
      release: (destroy?: boolean) => client.release(destroy || stale),
    };
  };
  return {
    async connect() {
      const client = await pool.connect();
      let connection = wrapped.get(client);
      if (!connection) wrapped.set(client, (connection = wrap(client)));
      return connection;
    },
    end: () => pool.end(),
  };
}

/**
 * A named statement prepared before a schema change (a migration run by this or another instance) whose
 * result columns changed since: PostgreSQL refuses to run it (0A000 "cached plan must not change result type").
 */
const isStalePlan = (error: unknown): boolean => {
  const e = error as { code?: string; message?: string } | null;
  return e?.code === '0A000' && /cached plan must not change result type/.test(e.message ?? '');
};

/** Unique-constraint violations on either engine, so they become 409s instead of 500s. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string } | null;
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
