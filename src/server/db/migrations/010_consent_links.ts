import type { Kysely } from 'kysely';

// Immutable once landed. Imports nothing from the app.
export async function up(db: Kysely<unknown>): Promise<void> {
  // Single-use links that let a Global Administrator without a portal account create or re-authorize a
  // partner's app profile. Only the SHA-256 of the link's token is kept.
  await db.schema
    .createTable('consent_links')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('partner_id', 'text', (c) => c.notNull().references('partners.id').onDelete('cascade'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('cloud', 'text', (c) => c.notNull())
    .addColumn('profile_name', 'text', (c) => c.notNull())
    // Set for a re-authorization; null when the link creates a profile.
    .addColumn('profile_id', 'text', (c) => c.references('app_profiles.id').onDelete('cascade'))
    .addColumn('email', 'text')
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .addColumn('revoked_at', 'text')
    // SHA-256 of the browser binding of the visit that went to Microsoft: only that browser reads the outcome.
    .addColumn('visit_binding', 'text')
    .addColumn('outcome', 'text')
    .addColumn('outcome_profile_id', 'text')
    .execute();
  await db.schema.createIndex('consent_links_partner').on('consent_links').columns(['partner_id', 'created_at']).execute();
  // Round trips started from a consent link name it.
  await db.schema.alterTable('oauth_flows').addColumn('consent_link_id', 'text').execute();
}
