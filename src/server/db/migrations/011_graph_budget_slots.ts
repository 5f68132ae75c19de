import type { Kysely } from 'kysely';

// Immutable once landed. Imports nothing from the app.
export async function up(db: Kysely<unknown>): Promise<void> {
  // The per-tenant Graph budget keeps the units spent in each of the last seconds (JSON), so that no span of
  // 10 seconds, wherever Graph starts counting, holds more than the limit. Null: nothing spent yet.
  await db.schema.alterTable('graph_budget').addColumn('slots', 'text').execute();
}
