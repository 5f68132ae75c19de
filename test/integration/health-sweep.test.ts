import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProfileHealth } from '../../src/server/app-profiles/health';
import { createAppProfileStore, type RefreshUpdate } from '../../src/server/app-profiles/store';
import type { MicrosoftOAuth } from '../../src/server/microsoft/oauth';
import { signUpPartner } from '../support/api-client';
import { AdminBrowser, CONTOSO, NORTHWIND, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';

/** The scheduled sweep over the real store and the sandbox's token endpoint, watched as it goes. */
describe('the health sweep', () => {
  let portal: TestPortal;
  beforeAll(async () => {
    portal = await startTestPortal('sqlite');
  });
  afterAll(async () => {
    await portal.close();
  });

  it("refreshes the next batch while the previous batch's rotated tokens are written, and writes them all", async () => {
    const { client } = await signUpPartner(portal.url);
    const browser = new AdminBrowser(client);
    for (const [name, email] of [['Contoso', CONTOSO.admin], ['Northwind', NORTHWIND.admin]]) {
      expect((await browser.createProfile(name, { email, password: SAMPLE_PASSWORD, consent: 'accept' })).result).toBe('created');
    }
    const { db, secretBox, audit, oauth } = portal.services;
    const before = await db.selectFrom('app_profiles').select(['id', 'refresh_token_sealed']).execute();
    await new Promise((resolve) => setTimeout(resolve, 5));

    const events: string[] = [];
    const real = createAppProfileStore(db);
    // The real store and token endpoint, with a slow write (as a busy database's): the order of events shows
    // whether a refresh waits for the previous batch's write.
    const store = {
      ...real,
      async recordRefreshes(updates: RefreshUpdate[]) {
        events.push(`write of ${updates.length} begins`);
        await new Promise((resolve) => setTimeout(resolve, 300));
        await real.recordRefreshes(updates);
        events.push('write ends');
      },
    };
    const watched: Pick<MicrosoftOAuth, 'refresh'> = {
      refresh: (cloud, params) => {
        events.push('refresh');
        return oauth.refresh(cloud, params);
      },
    };
    const health = createProfileHealth({ store, box: secretBox, oauth: watched, audit });
    const totals = await health.sweep({ olderThanMs: 0, batchSize: 1 });

    expect(totals).toEqual({ checked: 2, expired: 0, unreachable: 0 });
    expect(events).toEqual(['refresh', 'write of 1 begins', 'refresh', 'write ends', 'write of 1 begins', 'write ends']);
    const after = await db.selectFrom('app_profiles').select(['id', 'refresh_token_sealed']).execute();
    for (const row of before) expect(after.find((a) => a.id === row.id)!.refresh_token_sealed).not.toBe(row.refresh_token_sealed);
  });

  it('keeps a bounded number of access tokens: past the limit the longest-refreshed is refreshed again when used', async () => {
    const { db, secretBox, audit, oauth } = portal.services;
    const store = createAppProfileStore(db);
    let refreshes = 0;
    const counted: Pick<MicrosoftOAuth, 'refresh'> = {
      refresh: (cloud, params) => {
        refreshes++;
        return oauth.refresh(cloud, params);
      },
    };
    const health = createProfileHealth({ store, box: secretBox, oauth: counted, audit, accessTokenCacheLimit: 1 });
    const rows = await db.selectFrom('app_profiles').selectAll().where('status', '=', 'active').orderBy('id').limit(2).execute();
    expect(rows).toHaveLength(2);
    const [first, second] = rows;
    await health.accessToken(first);
    await health.accessToken(second);
    expect(refreshes).toBe(2);
    // The second is cached; the first was dropped to stay within the limit.
    await health.accessToken(second);
    expect(refreshes).toBe(2);
    await health.accessToken(first);
    expect(refreshes).toBe(3);
  });
});
