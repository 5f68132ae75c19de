import { Migrator, sql, type Migration } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/server/db/database';
import * as m001 from '../../src/server/db/migrations/001_foundation';
import * as m002 from '../../src/server/db/migrations/002_app_profiles';
import * as m003 from '../../src/server/db/migrations/003_user_management';
import * as m004 from '../../src/server/db/migrations/004_session_group_role';
import { migrateToLatest } from '../../src/server/db/migrate';
import { emailDomainOf } from '../../src/server/users/store';
import { openTestDatabase, testEngines } from '../support/engines';

describe.each(testEngines())('migration 007 on %s', (engine) => {
  let database: DatabaseHandle;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ database, close } = await openTestDatabase(engine, 'm007'));
  });
  afterAll(async () => {
    await close?.();
  });

  it('fills the lower-cased email domain of existing users, and the SSO domain look-up uses its index', async () => {
    const before: Record<string, Migration> = { '001_foundation': m001, '002_app_profiles': m002, '003_user_management': m003, '004_session_group_role': m004 };
    const { error } = await new Migrator({ db: database.db, provider: { getMigrations: async () => before } }).migrateToLatest();
    expect(error).toBeUndefined();
    const now = new Date().toISOString();
    await database.db.insertInto('partners').values({ id: 'p1', name: 'Acme', created_at: now }).execute();
    const row = (id: string, email: string) => ({ id, partner_id: 'p1', email, email_key: email.toLowerCase(), display_name: id, password_hash: null, role: 'member' as const, is_owner: 0, sign_in_type: 'local' as const, kind: 'user' as const, status: 'active' as const, app_profile_id: null, created_at: now, updated_at: now });
    await database.db.insertInto('users').values([row('u1', 'Alex@Contoso.COM'), row('u2', 'nora@northwind.com'), row('u3', 'odd@sub.example.org')]).execute();
    // Keys as odd as a stored row can be: more than one '@', none, a trailing '@', upper case left in the key, non-ASCII.
    const odd: [string, string][] = [
      ['u4', '"a@b"@Quoted.Example'],
      ['u5', 'no-at-sign'],
      ['u6', 'trailing@'],
      ['u7', 'lena@bücher.de'],
    ];
    await database.db.insertInto('users').values(odd.map(([id, key]) => ({ ...row(id, key), email_key: key }))).execute();
    // Many rows of one domain: the backfill is one set-based UPDATE, not work per row.
    const many = Array.from({ length: 3000 }, (_, i) => row(`v${String(i).padStart(4, '0')}`, `person${i}@Fabrikam.com`));
    for (let i = 0; i < many.length; i += 250) await database.db.insertInto('users').values(many.slice(i, i + 250)).execute();

    await migrateToLatest(database.db);
    const domains = await database.db.selectFrom('users').select(['id', 'email_key', 'email_domain']).orderBy('id').execute();
    expect(domains.filter((d) => d.id.startsWith('u')).map(({ id, email_domain }) => ({ id, email_domain }))).toEqual([
      { id: 'u1', email_domain: 'contoso.com' },
      { id: 'u2', email_domain: 'northwind.com' },
      { id: 'u3', email_domain: 'sub.example.org' },
      { id: 'u4', email_domain: 'quoted.example' },
      { id: 'u5', email_domain: 'no-at-sign' },
      { id: 'u6', email_domain: '' },
      { id: 'u7', email_domain: 'bücher.de' },
    ]);
    // The same rule as the application's for every row.
    expect(domains.filter((d) => d.email_domain !== emailDomainOf(d.email_key))).toEqual([]);
    expect(domains.filter((d) => d.email_domain === 'fabrikam.com')).toHaveLength(3000);
    if (engine === 'sqlite') {
      const plan = await sql<{ detail: string }>`explain query plan select id from users where email_domain = ${'contoso.com'} and sign_in_type = ${'microsoft365'}`.execute(database.db);
      expect(plan.rows.map((r) => r.detail).join(' ')).toMatch(/USING (COVERING )?INDEX users_email_domain/);
    } else {
      const indexes = await sql<{ indexname: string }>`select indexname from pg_indexes where tablename = 'users'`.execute(database.db);
      expect(indexes.rows.map((r) => r.indexname)).toContain('users_email_domain');
    }
  });
});
