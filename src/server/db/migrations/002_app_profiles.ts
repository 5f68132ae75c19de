import type { Kysely } from 'kysely';

// Immutable once landed. Imports nothing from the app.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('app_profiles')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('partner_id', 'text', (c) => c.notNull().references('partners.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_key', 'text', (c) => c.notNull())
    .addColumn('cloud', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('tenant_name', 'text', (c) => c.notNull())
    .addColumn('tenant_domain', 'text', (c) => c.notNull())
    .addColumn('authorized_by_upn', 'text', (c) => c.notNull())
    .addColumn('authorized_by_oid', 'text', (c) => c.notNull())
    .addColumn('granted_scopes', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('status_code', 'text')
    .addColumn('status_message', 'text')
    .addColumn('status_fix', 'text')
    .addColumn('refresh_token_sealed', 'text', (c) => c.notNull())
    .addColumn('refresh_token_key_id', 'text', (c) => c.notNull())
    .addColumn('authorized_at', 'text', (c) => c.notNull())
    .addColumn('token_used_at', 'text', (c) => c.notNull())
    .addColumn('last_checked_at', 'text')
    .addColumn('last_check_error_at', 'text')
    .addColumn('last_check_error_message', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('app_profiles_partner_name').on('app_profiles').columns(['partner_id', 'name_key']).unique().execute();
  await db.schema.createIndex('app_profiles_partner_tenant').on('app_profiles').columns(['partner_id', 'cloud', 'tenant_id']).unique().execute();
  await db.schema.createIndex('app_profiles_status').on('app_profiles').columns(['status', 'last_checked_at']).execute();

  // A user or group added through a profile pins it: the database itself refuses to delete a profile
  // still in use, so no race between "add users" and "delete profile" can leave an orphan.
  await db.schema
    .alterTable('users')
    .addColumn('app_profile_id', 'text', (c) => c.references('app_profiles.id').onDelete('restrict'))
    .execute();
  await db.schema.createIndex('users_app_profile').on('users').columns(['app_profile_id', 'kind']).execute();

  await db.schema
    .createTable('oauth_flows')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('browser_binding', 'text', (c) => c.notNull())
    .addColumn('session_id', 'text')
    .addColumn('partner_id', 'text', (c) => c.references('partners.id').onDelete('cascade'))
    .addColumn('user_id', 'text')
    .addColumn('cloud', 'text', (c) => c.notNull())
    .addColumn('profile_id', 'text')
    .addColumn('profile_name', 'text')
    .addColumn('account', 'text')
    .addColumn('login_hint', 'text')
    .addColumn('secrets_sealed', 'text', (c) => c.notNull())
    .addColumn('return_to', 'text')
    .addColumn('continue_url', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .execute();
  await db.schema.createIndex('oauth_flows_expires').on('oauth_flows').column('expires_at').execute();
}
