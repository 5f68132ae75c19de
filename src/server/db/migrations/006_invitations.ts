import { sql, type Kysely } from 'kysely';

// Immutable once landed. Imports nothing from the app.
export async function up(db: Kysely<unknown>): Promise<void> {
  // A pending invitation no longer reserves its email across partners: only accounts in use do.
  await db.schema.dropIndex('users_local_email').execute();
  await db.schema
    .createIndex('users_local_email')
    .on('users')
    .column('email_key')
    .unique()
    .where(sql<boolean>`sign_in_type = 'local' and status <> 'invited'`)
    .execute();
  await db.schema.createIndex('users_invited_expiry').on('users').columns(['status', 'activation_expires_at']).execute();

  // Invitations sent per partner, for the hourly sending limit.
  await db.schema
    .createTable('invitation_sends')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('partner_id', 'text', (c) => c.notNull().references('partners.id').onDelete('cascade'))
    .addColumn('at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('invitation_sends_partner_at').on('invitation_sends').columns(['partner_id', 'at']).execute();
}
