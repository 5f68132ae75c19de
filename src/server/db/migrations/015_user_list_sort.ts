import type { Kysely } from 'kysely';

// Immutable once landed. Imports nothing from the app.
export async function up(db: Kysely<unknown>): Promise<void> {
  // The users list sorts by name, role, sign-in type or status, then email, and pages by a keyset cursor on
  // (that column, email): each index serves one sort (and the filter on that column) without sorting the
  // partner's whole list per page. The email sort already has users_partner_email.
  for (const column of ['display_name', 'role', 'sign_in_type', 'status']) {
    await db.schema.createIndex(`users_partner_${column}_email`).on('users').columns(['partner_id', column, 'email_key']).execute();
  }
}
