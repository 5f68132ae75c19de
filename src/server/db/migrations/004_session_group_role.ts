import type { Kysely } from 'kysely';

// Immutable once landed. Imports nothing from the app.
export async function up(db: Kysely<unknown>): Promise<void> {
  // The role a Microsoft 365 sign-in earned through added groups; the higher of it and the user's own role applies.
  await db.schema.alterTable('sessions').addColumn('group_role', 'text').execute();
}
