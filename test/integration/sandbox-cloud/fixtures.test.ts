import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTenants } from '../../../src/sandbox-cloud/fixture';
import { loadFixtureFile, SAMPLE_FIXTURE_PATH, startSandboxCloud } from '../../../src/sandbox-cloud/index';
import { control, startHarness, type Harness } from './helpers';

const tenant = (overrides: Record<string, unknown> = {}) => ({
  id: '9a9a9a9a-0000-4000-8000-000000000001',
  cloud: 'global',
  displayName: 'Fixture Co',
  domains: [{ name: 'fixture.com', isDefault: true }],
  users: [{ userPrincipalName: 'a@fixture.com', displayName: 'A', password: 'p' }],
  groups: [],
  ...overrides,
});

function writeFixture(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'sbx-fixture-')), 'fixture.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('fixture loading', () => {
  it('loads the built-in sample: six tenants in three clouds, with GCC, GCC High and DoD variants', () => {
    const fixture = loadFixtureFile(SAMPLE_FIXTURE_PATH);
    expect(fixture.tenants.map((t) => [t.displayName, t.cloud, t.variant])).toEqual([
      ['Contoso Ltd', 'global', undefined],
      ['Northwind Traders', 'global', undefined],
      ['Fabrikam Government', 'usgov', 'gcc-high'],
      ['Woodgrove County (GCC)', 'global', 'gcc'],
      ['Tailspin Defense (DoD)', 'usgov', 'dod'],
      ['Litware China', 'china', undefined],
    ]);
  });

  it.each([
    ['an unknown cloud', { cloud: 'mars' }, /tenant "Fixture Co".*field cloud/],
    ['a variant of another cloud', { cloud: 'global', variant: 'dod' }, /tenant "Fixture Co".*field variant.*"dod" tenants live in the "usgov" cloud/],
    ['a duplicate UPN', { users: [{ userPrincipalName: 'a@fixture.com', displayName: 'A', password: 'p' }, { userPrincipalName: 'A@fixture.com', displayName: 'B', password: 'p' }] }, /tenant "Fixture Co".*users\[1\]\.userPrincipalName.*duplicate/],
    ['a member that does not exist', { groups: [{ displayName: 'G', members: ['ghost@fixture.com'] }] }, /tenant "Fixture Co".*groups\[0\]\.members\[0\].*ghost@fixture\.com/],
    ['a UPN outside the tenant domains', { users: [{ userPrincipalName: 'a@other.com', displayName: 'A', password: 'p' }] }, /tenant "Fixture Co".*users\[0\]\.userPrincipalName/],
    ['a missing password', { users: [{ userPrincipalName: 'a@fixture.com', displayName: 'A' }] }, /tenant "Fixture Co".*users\[0\]\.password/],
    ['an unknown role', { users: [{ userPrincipalName: 'a@fixture.com', displayName: 'A', password: 'p', roles: ['Emperor'] }] }, /tenant "Fixture Co".*roles\[0\]/],
  ])('refuses %s naming the tenant and the field', (_name, overrides, message) => {
    expect(() => loadFixtureFile(writeFixture({ tenants: [tenant(overrides)] }))).toThrow(message);
  });

  it('refuses JSON that does not parse, and refuses to start with it', async () => {
    const path = writeFixture('{ not json');
    expect(() => loadFixtureFile(path)).toThrow(/could not be read as JSON/);
    await expect(startSandboxCloud({ port: 0, fixturePath: path })).rejects.toThrow(/could not be read as JSON/);
  });

  it('generates deterministically from the seed', () => {
    const fixture = { tenants: [tenant({ generate: { users: 50, groups: 5, groupsPerUser: 2, nesting: 1, seed: 3 } })] };
    const [a] = buildTenants(fixture as never);
    const [b] = buildTenants(fixture as never);
    expect(a.users).toHaveLength(51);
    expect(a.users.map((u) => [u.id, u.displayName])).toEqual(b.users.map((u) => [u.id, u.displayName]));
    expect(a.groups.map((g) => [...g.members])).toEqual(b.groups.map((g) => [...g.members]));
    expect(a.findUser('user7@fixture.com')!.password).toBe('Passw0rd!7');
  });
});

describe('POST /_sandbox/fixture', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.sandbox.close());

  it('replaces every tenant, and refuses a malformed fixture with 400 naming tenant and field', async () => {
    const bad = await control(h, 'POST', '/fixture', { tenants: [tenant({ cloud: 'mars' })] });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/Fixture Co.*cloud/);
    const ok = await control(h, 'POST', '/fixture', { tenants: [tenant()] });
    expect(ok.status).toBe(200);
    const tenants = (await control(h, 'GET', '/tenants')).body as { tenants: { displayName: string }[] };
    expect(tenants.tenants.map((t) => t.displayName)).toEqual(['Fixture Co']);
  });
});
