import { sql, type Kysely } from 'kysely';

/** The columns this migration reads and fills (its own view of the schema at this point). */
interface Tables007 {
  users: { id: string; email_key: string; email_domain: string | null };
}

// Immutable once landed. Imports nothing from the app.
export async function up(db: Kysely<Tables007>): Promise<void> {
  // The lower-cased domain of an entry's email, indexed: single sign-on finds a domain's cloud without a LIKE scan.
  await db.schema.alterTable('users').addColumn('email_domain', 'text').execute();
  // The last failed membership download of a group entry, kept on the row instead of being read back from the audit log.
  await db.schema.alterTable('users').addColumn('download_failed_at', 'text').execute();
  await db.schema.alterTable('users').addColumn('download_failure', 'text').execute();
  // One set-based UPDATE on both engines: the text after the last '@' (the whole key when it has none), lower-cased.
  // rtrim(key, <every character but '@'>) leaves the key up to its last '@'.
  await sql`update users set email_domain = lower(substr(email_key, length(rtrim(email_key, replace(email_key, '@', ''))) + 1))`.execute(db);
  await db.schema.createIndex('users_email_domain').on('users').columns(['email_domain', 'sign_in_type']).execute();

  // Pending "choose a partner" answers of a Microsoft 365 sign-in, until now kept as marked rows of oauth_flows.
  await db.schema
    .createTable('sso_choices')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('browser_binding', 'text', (c) => c.notNull())
    .addColumn('choices_sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .execute();
  await db.schema.createIndex('sso_choices_binding').on('sso_choices').columns(['browser_binding', 'expires_at']).execute();
}
