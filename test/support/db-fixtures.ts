import { randomUUID } from 'node:crypto';
import type { Db } from '../../src/server/db/database';
import { hashPassword } from '../../src/server/security/passwords';

/** Adds an active local user straight into the store (for tests that need a Member before user management exists in the flow). */
export async function insertLocalUser(db: Db, partnerId: string, input: { email: string; password: string; role: 'administrator' | 'member' }): Promise<string> {
  const id = randomUUID();
  const now = new Date().toISOString();
  await db
    .insertInto('users')
    .values({
      id,
      partner_id: partnerId,
      email: input.email,
      email_key: input.email.toLowerCase(),
      display_name: input.email.split('@')[0],
      password_hash: await hashPassword(input.password),
      role: input.role,
      is_owner: 0,
      sign_in_type: 'local',
      kind: 'user',
      status: 'active',
      app_profile_id: null,
      created_at: now,
      updated_at: now,
    })
    .execute();
  return id;
}
