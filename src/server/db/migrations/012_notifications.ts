import type { Kysely } from 'kysely';

// Immutable once landed. Imports nothing from the app.
export async function up(db: Kysely<unknown>): Promise<void> {
  // Alerts of a partner (issue 10, section 2). `key` is the event's idempotency key: one row per event,
  // however often its condition is seen.
  await db.schema
    .createTable('notifications')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('partner_id', 'text', (c) => c.notNull().references('partners.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('app_profile_id', 'text')
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('fix', 'text')
    .addColumn('link', 'text')
    .addColumn('data', 'text')
    // 1 when the portal channel was on as the event happened (it then shows in the bell).
    .addColumn('in_portal', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('notifications_partner_key', ['partner_id', 'key'])
    .execute();
  await db.schema.createIndex('notifications_partner_created').on('notifications').columns(['partner_id', 'created_at']).execute();

  // Who has read which notification (read state is per person).
  await db.schema
    .createTable('notification_reads')
    .addColumn('notification_id', 'text', (c) => c.notNull().references('notifications.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('partner_id', 'text', (c) => c.notNull().references('partners.id').onDelete('cascade'))
    .addColumn('read_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('notification_reads_pk', ['notification_id', 'user_id'])
    .execute();

  // A condition that lasts (a profile expired, a download failing): notified once per episode; a
  // "resolved" closes the episode so the next lapse notifies again.
  await db.schema
    .createTable('notification_conditions')
    .addColumn('partner_id', 'text', (c) => c.notNull().references('partners.id').onDelete('cascade'))
    .addColumn('condition', 'text', (c) => c.notNull())
    .addColumn('episode', 'integer', (c) => c.notNull())
    .addColumn('open', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('notification_conditions_pk', ['partner_id', 'condition'])
    .execute();

  // Channels per partner (no row: every channel on).
  await db.schema
    .createTable('notification_settings')
    .addColumn('partner_id', 'text', (c) => c.primaryKey().references('partners.id').onDelete('cascade'))
    .addColumn('portal_enabled', 'integer', (c) => c.notNull())
    .addColumn('email_enabled', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  // People who asked for no alert emails.
  await db.schema
    .createTable('notification_email_optouts')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('partner_id', 'text', (c) => c.notNull().references('partners.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  // One row per notification, channel and recipient: taken before sending, so each goes out once.
  await db.schema
    .createTable('notification_deliveries')
    .addColumn('notification_id', 'text', (c) => c.notNull().references('notifications.id').onDelete('cascade'))
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('partner_id', 'text', (c) => c.notNull().references('partners.id').onDelete('cascade'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('detail', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('notification_deliveries_pk', ['notification_id', 'channel', 'recipient'])
    .execute();

  // The hourly alert of consent links that expired unused reads them by expiry.
  await db.schema.createIndex('consent_links_expires').on('consent_links').column('expires_at').execute();
}
