import type { Kysely } from 'kysely';

// Immutable once landed. Imports nothing from the app.
export async function up(db: Kysely<unknown>): Promise<void> {
  const addColumns: [string, 'text' | 'integer'][] = [
    ['ms_tenant_id', 'text'],
    ['ms_object_id', 'text'],
    ['activation_token_hash', 'text'],
    ['activation_expires_at', 'text'],
    ['sync_done', 'integer'],
    ['sync_total', 'integer'],
    ['last_synced_at', 'text'],
  ];
  for (const [name, type] of addColumns) {
    await db.schema.alterTable('users').addColumn(name, type).execute();
  }
  // A member who signed in through an added group: removing the group removes the record it created.
  await db.schema.alterTable('users').addColumn('via_group_id', 'text', (c) => c.references('users.id').onDelete('cascade')).execute();
  await db.schema
    .createIndex('users_ms_identity')
    .on('users')
    .columns(['partner_id', 'ms_tenant_id', 'ms_object_id'])
    .unique()
    .where((eb) => eb('ms_object_id' as never, 'is not', null))
    .execute();
  await db.schema.createIndex('users_ms_object').on('users').columns(['ms_tenant_id', 'ms_object_id']).execute();
  await db.schema.createIndex('users_activation').on('users').column('activation_token_hash').execute();

  await db.schema
    .createTable('group_members')
    .addColumn('partner_id', 'text', (c) => c.notNull().references('partners.id').onDelete('cascade'))
    .addColumn('group_user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('member_object_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('group_members_pk', ['group_user_id', 'member_object_id'])
    .execute();
  await db.schema.createIndex('group_members_member').on('group_members').columns(['partner_id', 'member_object_id']).execute();

  await db.schema
    .createTable('directory_sync_state')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('partner_id', 'text', (c) => c.notNull().references('partners.id').onDelete('cascade'))
    .addColumn('app_profile_id', 'text', (c) => c.notNull().references('app_profiles.id').onDelete('cascade'))
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('delta_link', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('directory_sync_state_profile').on('directory_sync_state').columns(['app_profile_id', 'resource']).unique().execute();

  await db.schema
    .createTable('graph_budget')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('window_start', 'text', (c) => c.notNull())
    .addColumn('units', 'integer', (c) => c.notNull())
    .execute();
}
