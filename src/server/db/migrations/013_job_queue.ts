import type { Kysely } from 'kysely';

// Immutable once landed. Imports nothing from the app.
export async function up(db: Kysely<unknown>): Promise<void> {
  // The durable job queue (src/server/jobs/queue.ts): one row per piece of background work, claimed under a
  // lease, retried with backoff, resumed from its checkpoint. `key` makes enqueueing idempotent.
  await db.schema
    .createTable('jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('partner_id', 'text', (c) => c.references('partners.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull().unique())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('run_after', 'text', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'text')
    .addColumn('last_error', 'text')
    .addColumn('checkpoint', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  // What a claim looks for: queued work that is due, and running work whose lease lapsed.
  await db.schema.createIndex('jobs_due').on('jobs').columns(['state', 'run_after']).execute();
  await db.schema.createIndex('jobs_partner').on('jobs').columns(['partner_id', 'kind']).execute();
  // A group member download resumed after a crash stamps each member it stores with its run, so the members
  // of pages stored before the crash count as seen and only members no page named are removed at the end.
  await db.schema.alterTable('group_members').addColumn('download_run', 'text').execute();
}
