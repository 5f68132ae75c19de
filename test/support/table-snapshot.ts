import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../../src/server/db/database';

/**
 * Tables whose rows a refused request may legitimately write: the audit log records refusals, the
 * sign-in limiter counts failed attempts, and sessions move their last-seen time.
 */
const BOOKKEEPING = new Set(['audit_events', 'sign_in_attempts', 'kysely_migration', 'kysely_migration_lock', 'schema_migrations']);
/** Columns that change on reads, by design. */
const VOLATILE_COLUMNS: Record<string, string[]> = { sessions: ['last_seen_at', 'expires_at'] };

export type TableSnapshot = Map<string, { rows: number; hash: string; lines: string[] }>;

/** Every user table of the database, on either engine. */
export async function listTables(db: Db, engine: 'sqlite' | 'postgres'): Promise<string[]> {
  const rows =
    engine === 'sqlite'
      ? (await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(db)).rows
      : (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(db)).rows;
  return rows.map((r) => r.name).filter((name) => !BOOKKEEPING.has(name) && !/migration/i.test(name)).sort();
}

/** Row count and a hash of every row of each table (sorted, so the order rows come back in does not matter). */
export async function snapshotTables(db: Db, tables: string[]): Promise<TableSnapshot> {
  const snapshot: TableSnapshot = new Map();
  for (const table of tables) {
    const rows = (await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(db)).rows;
    const volatile = VOLATILE_COLUMNS[table] ?? [];
    const lines = rows.map((row) => JSON.stringify(Object.entries(row).filter(([k]) => !volatile.includes(k)), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).sort();
    snapshot.set(table, { rows: rows.length, hash: createHash('sha1').update(lines.join('\n')).digest('hex'), lines });
  }
  return snapshot;
}

/** The tables whose rows differ between two snapshots, each with a row that differs. */
export function changedTables(before: TableSnapshot, after: TableSnapshot): string[] {
  return [...after.keys()]
    .filter((t) => before.get(t)?.hash !== after.get(t)?.hash)
    .map((t) => {
      const old = new Set(before.get(t)?.lines);
      const added = after.get(t)!.lines.find((line) => !old.has(line));
      return `${t} (${before.get(t)?.rows ?? 0} -> ${after.get(t)!.rows} rows; ${added?.slice(0, 400) ?? 'a row removed'})`;
    });
}
