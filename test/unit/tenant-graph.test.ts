import { describe, expect, it } from 'vitest';
import { GraphRefusedError, ProfileExpiredError } from '../../src/server/app-profiles/errors';
import { createProfileHealth } from '../../src/server/app-profiles/health';
import type { AppProfileRow, AppProfileStore } from '../../src/server/app-profiles/store';
import { createTenantGraphs } from '../../src/server/app-profiles/tenant-graph';
import type { GraphBudget } from '../../src/server/app-profiles/graph-budget';
import { MicrosoftTokenError } from '../../src/server/microsoft/errors';
import type { MicrosoftOAuth } from '../../src/server/microsoft/oauth';
import type { SecretBox } from '../../src/server/security/secret-box';

const GRAPH = 'https://graph.test';
const endpoints = { global: { login: 'https://login.test', graph: GRAPH }, usgov: { login: 'https://login.test', graph: GRAPH }, china: { login: 'https://login.test', graph: GRAPH } };
const profile = (): AppProfileRow =>
  ({ id: 'prof', partner_id: 'p1', name: 'Contoso', cloud: 'global', tenant_id: 'TENANT', status: 'active', refresh_token_sealed: 'sealed', status_code: null }) as unknown as AppProfileRow;
const json = (body: unknown, status = 200, headers: Record<string, string> = {}) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

function fakeBudget() {
  const reserved: [string, number][] = [];
  return { reserved, budget: { limit: 3500, reserve: async (key: string, cost: number) => void reserved.push([key, cost]) } as GraphBudget };
}

describe('tenant-graph: the one way to reach Graph through a profile', () => {
  it('charges every attempt, retries included, to the tenant budget; a token without a profile too', async () => {
    const { reserved, budget } = fakeBudget();
    const answers = [json({ error: { code: 'TooManyRequests', message: 'slow down' } }, 429, { 'retry-after': '0' }), json({ value: [] })];
    const graphs = createTenantGraphs(
      { microsoft: { endpoints }, tokens: { accessToken: async () => 'token', confirmAfterRefusal: async () => { throw new Error('not expected'); } }, budget },
      { fetch: async () => answers.shift()!, sleep: async () => undefined },
    );
    await graphs.for(profile(), 'background').get('/users', { query: { $select: 'id' } });
    expect(reserved).toEqual([
      ['global:tenant', 1],
      ['global:tenant', 1],
    ]);
    answers.push(json({ id: 'me', userPrincipalName: 'a@b.c' }));
    await graphs.forToken('global', 'OTHER', 'fresh-token', 'interactive').me();
    expect(reserved.at(-1)).toEqual(['global:other', 1]);
  });

  it('hands a 401/403 to the profile’s verdict, and passes other answers unchanged', async () => {
    const { budget } = fakeBudget();
    const refusals: string[] = [];
    let next = json({ error: { code: 'Authorization_RequestDenied', message: 'no' } }, 403);
    const graphs = createTenantGraphs(
      { microsoft: { endpoints }, tokens: { accessToken: async () => 'token', confirmAfterRefusal: async (_row, error) => { refusals.push(error.code); throw new GraphRefusedError('Contoso', `${error.status} ${error.code}`); } }, budget },
      { fetch: async () => next, sleep: async () => undefined },
    );
    await expect(graphs.run(profile(), 'interactive', (g) => g.organization())).rejects.toBeInstanceOf(GraphRefusedError);
    expect(refusals).toEqual(['Authorization_RequestDenied']);
    next = json({ error: { code: 'Request_ResourceNotFound', message: 'gone' } }, 404);
    await expect(graphs.run(profile(), 'interactive', (g) => g.me())).rejects.toMatchObject({ name: 'GraphError', status: 404 });
    expect(refusals).toHaveLength(1);
  });
});

describe('profile health after a Graph refusal', () => {
  function healthWith(refresh: MicrosoftOAuth['refresh']) {
    const updates: Partial<AppProfileRow>[] = [];
    const store = {
      update: async (_p: string, _id: string, changes: Partial<AppProfileRow>) => void updates.push(changes),
      recordRefresh: async () => undefined,
    } as unknown as AppProfileStore;
    const box = { open: () => 'refresh-token', seal: () => 'resealed', currentKeyId: 'k1' } as unknown as SecretBox;
    const health = createProfileHealth({ store, box, oauth: { refresh }, audit: { record: async () => undefined } as never, sleep: async () => undefined });
    return { health, updates };
  }
  const refusal = { status: 403, code: 'Authorization_RequestDenied' } as never;

  it('keeps the profile Active with a failed check when the refresh still works', async () => {
    const { health, updates } = healthWith(async () => ({ accessToken: 'a', accessTokenExpiresAt: new Date(Date.now() + 3600_000), grantedScopes: [] }));
    await expect(health.confirmAfterRefusal(profile(), refusal)).rejects.toBeInstanceOf(GraphRefusedError);
    expect(updates.some((u) => u.status === 'authorization_expired')).toBe(false);
    expect(updates.at(-1)).toMatchObject({ last_check_error_message: expect.stringMatching(/refused a request \(403 Authorization_RequestDenied\)/) });
  });

  it('expires the profile when the token endpoint says the grant is gone', async () => {
    const { health, updates } = healthWith(async () => {
      throw new MicrosoftTokenError({ error: 'invalid_grant', errorCodes: [50173], status: 400 });
    });
    await expect(health.confirmAfterRefusal(profile(), refusal)).rejects.toBeInstanceOf(ProfileExpiredError);
    expect(updates.at(-1)).toMatchObject({ status: 'authorization_expired', status_code: 'AADSTS50173' });
  });
});
