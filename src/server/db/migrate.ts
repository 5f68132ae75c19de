import { Migrator, SqliteAdapter, sql, type Migration, type MigrationProvider } from 'kysely';
import type { Db } from './database';
import * as m001 from './migrations/001_foundation';
import * as m002 from './migrations/002_app_profiles';
import * as m003 from './migrations/003_user_management';
import * as m004 from './migrations/004_session_group_role';
import * as m006 from './migrations/006_invitations';
import * as m007 from './migrations/007_table_owners';
import * as m005 from './migrations/005_read_path_indexes';
import * as m008 from './migrations/008_graph_host';
import * as m010 from './migrations/010_consent_links';
import * as m011 from './migrations/011_graph_budget_slots';
import * as m012 from './migrations/012_notifications';
import * as m013 from './migrations/013_job_queue';
import * as m014 from './migrations/014_webhooks';
import * as m015 from './migrations/015_user_list_sort';
import * as m016 from './migrations/016_email_display_names';
import * as m017 from './migrations/017_group_member_count';
import * as m018 from './migrations/018_history_retention';

/**
 * The numbered migrations, listed explicitly so they run the same from source (tsx) and from tests.
 * Append new ones; never edit one that has landed.
 */
export const migrations: Record<string, Migration> = {
  '001_foundation': m001,
  '002_app_profiles': m002,
  '003_user_management': m003,
  '004_session_group_role': m004,
  '006_invitations': m006,
  '007_table_owners': m007,
  '005_read_path_indexes': m005,
  '008_graph_host': m008,
  '010_consent_links': m010,
  '011_graph_budget_slots': m011,
  '012_notifications': m012,
  '013_job_queue': m013,
  '014_webhooks': m014,
  '015_user_list_sort': m015,
  '016_email_display_names': m016,
  '017_group_member_count': m017,
  '018_history_retention': m018,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/**
 * Applies the pending migrations once, however many instances start at the same moment.
 * PostgreSQL: Kysely's migrator holds a session advisory lock (pg_advisory_lock) around the run, in one
 * transaction, so the others wait and then find nothing to do. SQLite: Kysely takes no lock and no
 * transaction there, so the whole run is one `BEGIN IMMEDIATE` transaction: the write lock is taken
 * before reading which migrations are applied, other processes wait on the busy timeout, and a failed
 * migration leaves nothing half done.
 */
export async function migrateToLatest(db: Db): Promise<void> {
  const adapter = db.getExecutor().adapter;
  const result =
    adapter instanceof SqliteAdapter
      ? await db.connection().execute(async (connection) => {
          await sql`begin immediate`.execute(connection);
          try {
            const outcome = await new Migrator({ db: connection, provider }).migrateToLatest();
            await sql.raw(outcome.error ? 'rollback' : 'commit').execute(connection);
            return outcome;
          } catch (error) {
            await sql`rollback`.execute(connection).catch(() => undefined);
            throw error;
          }
        })
      : await new Migrator({ db, provider }).migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Database migration ${failed} failed: ${(result.error as Error).message}`);
  }
}

/** True when every known migration has been applied (for /readyz). */
export async function migrationsApplied(db: Db): Promise<boolean> {
  const migrator = new Migrator({ db, provider });
  const all = await migrator.getMigrations();
  return all.every((m) => m.executedAt !== undefined);
}
