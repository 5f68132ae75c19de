import { sql, type Kysely } from 'kysely';

// Immutable once landed. Imports nothing from the app.
export async function up(db: Kysely<unknown>): Promise<void> {
  // Local users got a display name made from their address ("pat" for pat@contoso.com), shown as if it were
  // their name. No name is known for them: the address stands in, as it does for new rows.
  await sql`update users set display_name = email where sign_in_type = 'local' and display_name || '@' || email_domain = email_key`.execute(db);
}
