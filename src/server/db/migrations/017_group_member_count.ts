import { sql, type Kysely } from 'kysely';

// Immutable once landed. Imports nothing from the app.
export async function up(db: Kysely<unknown>): Promise<void> {
  // A group entry's member count, kept by the one writer of group_members (users/store) as members change.
  // Counting them inside the list query cost a count of every listed group's members per page (1.7 ms on
  // SQLite, 6 ms on PostgreSQL for a page holding groups of 50,000 and 5,000 members).
  await db.schema.alterTable('users').addColumn('member_count', 'integer').execute();
  await sql`update users set member_count = (select count(*) from group_members gm where gm.group_user_id = users.id) where kind = 'group'`.execute(db);
}
