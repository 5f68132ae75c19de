import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { control, graphGet, signIn, startHarness, type Harness } from './helpers';

const BIG = '0b0b0b0b-1111-4222-8333-444455556666';
const fixture = {
  tenants: [
    {
      id: BIG,
      cloud: 'global',
      displayName: 'Big Co',
      domains: [{ name: 'bigco.onmicrosoft.com', isInitial: true }, { name: 'bigco.com', isDefault: true }],
      users: [{ userPrincipalName: 'admin@bigco.com', displayName: 'Big Admin', password: 'Passw0rd!', roles: ['Global Administrator'] }],
      groups: [{ displayName: 'Everyone Seed', mail: 'seed@bigco.com', members: ['admin@bigco.com'] }],
      generate: { users: 2499, groups: 20, groupsPerUser: 2, nesting: 1, seed: 7 },
    },
  ],
};

let h: Harness;
let token: string;
beforeAll(async () => {
  h = await startHarness({ fixture });
  token = (await signIn(h, 'admin@bigco.com', { scope: 'openid profile offline_access User.Read.All Group.Read.All' })).access_token;
});
afterAll(() => h.sandbox.close());

async function followAll(first: string, headers: Record<string, string> = {}) {
  const items: Record<string, unknown>[] = [];
  let next: string | undefined = first;
  let pages = 0;
  let last: Record<string, unknown> = {};
  while (next) {
    const res = await graphGet(h, 'global', next, token, headers);
    expect(res.status).toBe(200);
    items.push(...res.body.value!);
    last = res.body;
    next = res.body['@odata.nextLink'] as string | undefined;
    if (next) expect(next.startsWith(`${h.sandbox.clouds.global.graph}/v1.0/`)).toBe(true);
    pages++;
  }
  return { items, pages, last };
}

describe('paging', () => {
  it('returns each of 2,500 users exactly once through absolute nextLinks', async () => {
    const { items, pages } = await followAll('/users?$top=999&$select=id,userPrincipalName');
    expect(pages).toBe(3);
    expect(items).toHaveLength(2500);
    expect(new Set(items.map((u) => u.id)).size).toBe(2500);
  });

  it('keeps $filter across pages and uses the default page size of 100', async () => {
    const { items, pages } = await followAll(`/users?$filter=${encodeURIComponent("startswith(userPrincipalName,'user1')")}`);
    // user1, user10-19, user100-199, user1000-1999: 1 + 10 + 100 + 1000
    expect(items).toHaveLength(1111);
    expect(pages).toBe(12);
  });

  it('does not repeat or skip when a user is deleted between pages', async () => {
    const first = await graphGet(h, 'global', '/users?$top=500&$select=id', token);
    const seen = first.body.value!.map((u) => u.id);
    expect((await control(h, 'DELETE', `/tenants/${BIG}/users/user600@bigco.com`)).status).toBe(204);
    const rest = await followAll(first.body['@odata.nextLink'] as string);
    const all = [...seen, ...rest.items.map((u) => u.id)];
    expect(all).toHaveLength(2499);
    expect(new Set(all).size).toBe(2499);
  });
});

describe('delta', () => {
  it('users: a full round, then only the changes with @removed for deletions', async () => {
    const initial = await followAll('/users/delta?$select=displayName,userPrincipalName');
    const tenants = (await control(h, 'GET', '/tenants')).body as { tenants: { id: string; users: number }[] };
    expect(initial.items).toHaveLength(tenants.tenants.find((t) => t.id === BIG)!.users);
    const deltaLink = initial.last['@odata.deltaLink'] as string;
    expect(deltaLink).toContain('$deltatoken=');
    expect(initial.items.every((u) => typeof u.id === 'string')).toBe(true);

    await control(h, 'POST', `/tenants/${BIG}/users`, { userPrincipalName: 'newbie@bigco.com', displayName: 'New Bie', password: 'x' });
    await control(h, 'PATCH', `/tenants/${BIG}/users/user5@bigco.com`, { displayName: 'Renamed Five' });
    await control(h, 'DELETE', `/tenants/${BIG}/users/user6@bigco.com`);
    const user6Id = initial.items.find((u) => u.userPrincipalName === 'user6@bigco.com')!.id;

    const round = await followAll(deltaLink);
    expect(round.items).toHaveLength(3);
    expect(round.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ userPrincipalName: 'newbie@bigco.com', displayName: 'New Bie' }),
        expect.objectContaining({ userPrincipalName: 'user5@bigco.com', displayName: 'Renamed Five' }),
        { id: user6Id, '@removed': { reason: 'deleted' } },
      ]),
    );
    const quiet = await followAll(round.last['@odata.deltaLink'] as string);
    expect(quiet.items).toEqual([]);
  });

  it('groups: members@delta lists members first, then additions and removals', async () => {
    const initial = await followAll('/groups/delta?$select=displayName,members');
    const seed = initial.items.find((g) => g.displayName === 'Everyone Seed')!;
    expect(seed['members@delta']).toEqual([expect.objectContaining({ '@odata.type': '#microsoft.graph.user' })]);
    const deltaLink = initial.last['@odata.deltaLink'] as string;

    await control(h, 'POST', `/tenants/${BIG}/groups/${seed.id}/members`, { member: 'user7@bigco.com' });
    await control(h, 'DELETE', `/tenants/${BIG}/groups/${seed.id}/members/admin@bigco.com`);
    const created = (await control(h, 'POST', `/tenants/${BIG}/groups`, { displayName: 'Fresh', mail: 'fresh@bigco.com' })).body as { id: string };
    const doomed = initial.items.find((g) => g.displayName === 'Group 20')!;
    await control(h, 'DELETE', `/tenants/${BIG}/groups/${doomed.id}`);

    const round = await followAll(deltaLink);
    const changedSeed = round.items.find((g) => g.id === seed.id)!;
    const user7 = (await graphGet(h, 'global', '/users/user7@bigco.com', token)).body.id;
    const adminId = (await graphGet(h, 'global', '/users/admin@bigco.com', token)).body.id;
    expect(changedSeed['members@delta']).toEqual([
      { '@odata.type': '#microsoft.graph.user', id: user7 },
      { '@odata.type': '#microsoft.graph.user', id: adminId, '@removed': { reason: 'deleted' } },
    ]);
    expect(round.items).toEqual(expect.arrayContaining([expect.objectContaining({ id: created.id, displayName: 'Fresh' }), { id: doomed.id, '@removed': { reason: 'deleted' } }]));
    // Only changed groups come back (plus groups whose members were deleted along with Group 20).
    expect(round.items.length).toBeLessThan(initial.items.length);
  });

  it('an unknown delta token answers 410 resyncRequired', async () => {
    const res = await graphGet(h, 'global', '/users/delta?$deltatoken=bm9wZQ', token);
    expect(res.status).toBe(410);
    expect(res.body.error!.code).toBe('resyncRequired');
  });
});
