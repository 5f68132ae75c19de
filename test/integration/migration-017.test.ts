import { Migrator } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/server/db/database';
import { migrateToLatest, migrations } from '../../src/server/db/migrate';
import { openTestDatabase, testEngines } from '../support/engines';

describe.each(testEngines())('migration 017 on %s', (engine) => {
  let database: DatabaseHandle;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ database, close } = await openTestDatabase(engine, 'm017'));
  });
  afterAll(async () => {
    await close?.();
  });

  it('stores the member count of every existing group entry, and none for people', async () => {
    const before = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < '017'));
    const { error } = await new Migrator({ db: database.db, provider: { getMigrations: async () => before } }).migrateToLatest();
    expect(error).toBeUndefined();
    const now = new Date().toISOString();
    await database.db.insertInto('partners').values({ id: 'p1', name: 'Acme', created_at: now }).execute();
    const row = (id: string, kind: 'user' | 'group') => ({ id, partner_id: 'p1', email: `${id}@contoso.com`, email_key: `${id}@contoso.com`, display_name: id, password_hash: null, role: 'member' as const, is_owner: 0, sign_in_type: 'microsoft365' as const, kind, status: 'active' as const, app_profile_id: null, created_at: now, updated_at: now });
    await database.db.insertInto('users').values([row('sales', 'group'), row('empty', 'group'), row('alex', 'user')]).execute();
    await database.db
      .insertInto('group_members')
      .values(['m1', 'm2', 'm3'].map((m) => ({ partner_id: 'p1', group_user_id: 'sales', member_object_id: m })))
      .execute();

    await migrateToLatest(database.db);
    const counts = await database.db.selectFrom('users').select(['id', 'member_count']).orderBy('id').execute();
    expect(counts.map((c) => [c.id, c.member_count === null ? null : Number(c.member_count)])).toEqual([
      ['alex', null],
      ['empty', 0],
      ['sales', 3],
    ]);
  });
});
