import type { Db } from '../../src/server/db/database';
import { hashPassword } from '../../src/server/security/passwords';
import { insertUserRow, newUserRow } from '../../src/server/users/store';

/** Adds an active local user straight into the store (for tests that need a Member before user management exists in the flow). */
export async function insertLocalUser(db: Db, partnerId: string, input: { email: string; password: string; role: 'administrator' | 'member' }): Promise<string> {
  const row = newUserRow({ partner_id: partnerId, email: input.email, role: input.role, password_hash: await hashPassword(input.password) });
  await insertUserRow(db, row);
  return row.id;
}
