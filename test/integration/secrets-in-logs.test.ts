import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, signUpPartner } from '../support/api-client';
import { AdminBrowser, CONTOSO, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';

describe('secrets never reach the log', () => {
  let portal: TestPortal;
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  beforeAll(async () => {
    portal = await startTestPortal('sqlite', { LOG_LEVEL: 'trace' }, { logStream: sink });
  });
  afterAll(async () => {
    await portal?.close();
  });

  it('logs requests of a whole app-profile round trip without tokens, codes, cookies or passwords', async () => {
    const { client, password } = await signUpPartner(portal.url);
    const browser = new AdminBrowser(client);
    const start = await client.post('/api/app-profiles', { name: 'Logged', cloud: 'global' });
    const authorizeUrl = new URL(start.body.authorizationUrl);
    const redirect = await browser.microsoft.authorize(authorizeUrl, { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    const code = redirect.searchParams.get('code')!;
    const state = redirect.searchParams.get('state')!;
    const callback = await client.get(`${redirect.pathname}${redirect.search}`);
    const profileId = new URL(callback.headers.get('location')!, portal.url).searchParams.get('profileId')!;
    await client.post(`/api/app-profiles/${profileId}/check`);

    const row = await portal.services.db.selectFrom('app_profiles').selectAll().where('id', '=', profileId).executeTakeFirstOrThrow();
    const refreshToken = portal.services.secretBox.open(row.refresh_token_sealed, `app-profile:${profileId}:refresh-token`);
    const log = lines.join('');
    // One line per answered request (sign-up, start, callback, check), plus start-up lines.
    expect(lines.filter((l) => l.includes('request completed')).length).toBeGreaterThanOrEqual(4);
    expect(log).toContain('/auth/microsoft/callback');
    for (const secret of [refreshToken, code, state, authorizeUrl.searchParams.get('nonce')!, password, client.jar.get('tg_session')!, client.csrfToken!, portal.services.microsoft.apps.global!.clientSecret]) {
      expect(log.includes(secret), `a secret of ${secret.length} characters is in the log`).toBe(false);
    }
  });

  it('logs the opening of a consent link without its single-use token', async () => {
    const { client } = await signUpPartner(portal.url, 'Log Link Partner');
    const created = await client.post('/api/consent-links', { name: 'Logged link', cloud: 'global' });
    expect(created.status).toBe(201);
    const path = new URL((created.body as { url: string }).url).pathname;
    const token = path.split('/').pop()!;
    const before = lines.length;
    const ga = new ApiClient(portal.url);
    expect((await ga.get(path)).status).toBe(200);
    expect((await ga.get(`${path}/continue`)).status).toBe(303);
    const log = lines.slice(before).join('');
    expect(log).toContain('/consent/[REDACTED]/continue');
    expect(log.includes(token), 'the consent link token is in the log').toBe(false);
  });
});
