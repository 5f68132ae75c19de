import type { Kysely } from 'kysely';

// Immutable once landed. Imports nothing from the app.
export async function up(db: Kysely<unknown>): Promise<void> {
  // "How many users and groups use each of these app profiles" (every app profile page) read every user of
  // the partner: the only index starting with partner_id was the email one. This one answers it alone.
  await db.schema.createIndex('users_partner_app_profile').on('users').columns(['partner_id', 'app_profile_id', 'kind']).execute();
  // The last membership-download outcome of the groups on a users page walked the partner's whole audit log;
  // this reads that action's events only (and serves the audit log filtered by action, newest first).
  await db.schema.createIndex('audit_partner_action_at').on('audit_events').columns(['partner_id', 'action', 'at', 'id']).execute();
}
