import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { GUID_PATTERN, stableGuid } from './crypto-utils';
import { Tenant, type DirectoryObject } from './directory';
import { generateSynthetic } from './generate';
import { ROLE_BY_NAME } from './roles';
import { CLOUD_NAMES, VARIANT_CLOUD, type SandboxCloudName, type TenantVariant } from './clouds';

/** The fixture format (src/sandbox-cloud/README.md; the built-in sample is fixtures/sample.json). */
const guid = z.string().regex(GUID_PATTERN, 'must be a GUID');

export const fixtureUser = z.object({
  id: guid.optional(),
  userPrincipalName: z.string().regex(/^[^@\s]+@[^@\s]+$/, 'must look like name@domain'),
  displayName: z.string().min(1),
  givenName: z.string().nullable().optional(),
  surname: z.string().nullable().optional(),
  mail: z.string().nullable().optional(),
  jobTitle: z.string().nullable().optional(),
  password: z.string().min(1),
  accountEnabled: z.boolean().optional(),
  roles: z.array(z.string()).optional(),
});

export const fixtureGroup = z.object({
  id: guid.optional(),
  displayName: z.string().min(1),
  description: z.string().nullable().optional(),
  mail: z.string().nullable().optional(),
  mailNickname: z.string().optional(),
  securityEnabled: z.boolean().optional(),
  mailEnabled: z.boolean().optional(),
  members: z.array(z.string()).optional(),
});

const fixtureGenerate = z.object({
  users: z.number().int().min(0).max(1_000_000),
  groups: z.number().int().min(0).max(100_000).default(0),
  groupsPerUser: z.number().int().min(0).max(50).default(0),
  nesting: z.number().int().min(0).max(10).default(0),
  seed: z.number().int().default(1),
  password: z.string().min(1).optional(),
});

const fixtureTenant = z.object({
  id: guid,
  cloud: z.enum(CLOUD_NAMES as [SandboxCloudName, ...SandboxCloudName[]]),
  /** GCC tenants live in `global`, GCC High and DoD tenants in `usgov`; the discovery documents report it. */
  variant: z.enum(Object.keys(VARIANT_CLOUD) as [TenantVariant, ...TenantVariant[]]).optional(),
  displayName: z.string().min(1),
  domains: z
    .array(z.object({ name: z.string().regex(/^[a-z0-9.-]+\.[a-z0-9-]+$/i, 'must be a domain name'), isDefault: z.boolean().optional(), isInitial: z.boolean().optional() }))
    .min(1),
  users: z.array(fixtureUser).default([]),
  groups: z.array(fixtureGroup).default([]),
  generate: fixtureGenerate.optional(),
});

export const fixtureSchema = z.object({ tenants: z.array(fixtureTenant) });

export type SandboxFixture = z.infer<typeof fixtureSchema>;

export class FixtureError extends Error {}

export const SAMPLE_FIXTURE_PATH = fileURLToPath(new URL('./fixtures/sample.json', import.meta.url));

/** Reads and validates a fixture file; the error names the tenant and the field that is wrong. */
export function loadFixtureFile(path: string): SandboxFixture {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new FixtureError(`Sandbox fixture ${path} could not be read as JSON: ${(error as Error).message}`);
  }
  return parseFixture(raw);
}

function tenantLabel(raw: unknown, index: number): string {
  const tenant = (raw as { tenants?: Record<string, unknown>[] })?.tenants?.[index];
  const name = typeof tenant?.displayName === 'string' ? tenant.displayName : `#${index}`;
  return typeof tenant?.id === 'string' ? `"${name}" (${tenant.id})` : `"${name}"`;
}

/** Validates parsed JSON against the fixture schema and its rules (unique UPNs/domains, existing members). */
export function parseFixture(raw: unknown): SandboxFixture {
  const parsed = fixtureSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const [root, index, ...field] = issue.path;
    const where = root === 'tenants' && typeof index === 'number' ? `tenant ${tenantLabel(raw, index)}, field ${formatPath(field)}` : `field ${formatPath(issue.path)}`;
    throw new FixtureError(`Sandbox fixture refused: ${where}: ${issue.message}`);
  }
  // Building the tenants runs every cross-reference rule; errors surface here, at load.
  buildTenants(parsed.data, { generate: false });
  return parsed.data;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('') || '(root)';
}

/** Turns a validated fixture into directory tenants (generating synthetic users and groups where asked). */
export function buildTenants(fixture: SandboxFixture, options: { generate?: boolean } = {}): Tenant[] {
  const tenantIds = new Set<string>();
  const domainOwners = new Map<string, string>();
  return fixture.tenants.map((input, tenantIndex) => {
    const fail = (field: string, message: string): never => {
      throw new FixtureError(`Sandbox fixture refused: tenant "${input.displayName}" (${input.id}), field ${field}: ${message}`);
    };
    const id = input.id.toLowerCase();
    if (tenantIds.has(id)) fail('id', `duplicate tenant id "${input.id}"`);
    tenantIds.add(id);
    if (input.variant && VARIANT_CLOUD[input.variant] !== input.cloud) fail('variant', `"${input.variant}" tenants live in the "${VARIANT_CLOUD[input.variant]}" cloud, not "${input.cloud}"`);
    input.domains.forEach((domain, i) => {
      const key = `${input.cloud}|${domain.name.toLowerCase()}`;
      if (domainOwners.has(key)) fail(`domains[${i}].name`, `domain "${domain.name}" is already used by tenant ${domainOwners.get(key)}`);
      domainOwners.set(key, input.id);
    });
    const hasDefault = input.domains.some((d) => d.isDefault);
    const hasInitial = input.domains.some((d) => d.isInitial);
    const domains = input.domains.map((d, i) => ({
      name: d.name.toLowerCase(),
      isDefault: d.isDefault ?? (!hasDefault && i === 0),
      isInitial: d.isInitial ?? (!hasInitial && i === 0),
    }));
    const tenant = new Tenant(id, input.cloud, input.displayName, domains);
    tenant.variant = input.variant;
    const domainNames = new Set(domains.map((d) => d.name));

    input.users.forEach((user, i) => {
      const upnDomain = user.userPrincipalName.split('@')[1].toLowerCase();
      if (!domainNames.has(upnDomain)) fail(`users[${i}].userPrincipalName`, `domain "${upnDomain}" is not one of the tenant's domains`);
      if (tenant.usersByUpn.has(user.userPrincipalName.toLowerCase())) fail(`users[${i}].userPrincipalName`, `duplicate userPrincipalName "${user.userPrincipalName}"`);
      if (user.id && tenant.findObject(user.id)) fail(`users[${i}].id`, `duplicate id "${user.id}"`);
      (user.roles ?? []).forEach((role, r) => {
        if (!ROLE_BY_NAME.has(role)) fail(`users[${i}].roles[${r}]`, `unknown role "${role}" (known: ${[...ROLE_BY_NAME.keys()].join(', ')})`);
      });
      tenant.addUser({ ...user, id: user.id ?? stableGuid(`${id}|user|${user.userPrincipalName.toLowerCase()}`) }, false);
    });

    const groupsByName = new Map<string, string>();
    input.groups.forEach((group, i) => {
      if (group.id && tenant.findObject(group.id)) fail(`groups[${i}].id`, `duplicate id "${group.id}"`);
      const created = tenant.addGroup({ ...group, id: group.id ?? stableGuid(`${id}|group|${group.displayName.toLowerCase()}|${i}`) }, false);
      groupsByName.set(group.displayName.toLowerCase(), created.id);
    });

    input.groups.forEach((group, i) => {
      const target = tenant.groups[i];
      (group.members ?? []).forEach((ref, m) => {
        const member: DirectoryObject | undefined =
          tenant.findUser(ref) ?? tenant.findGroup(ref) ?? tenant.findGroup(groupsByName.get(ref.toLowerCase()) ?? '');
        if (!member) fail(`groups[${i}].members[${m}]`, `member "${ref}" is neither a user (userPrincipalName or id) nor a group (id or displayName) of this tenant`);
        if (member!.id === target.id) fail(`groups[${i}].members[${m}]`, 'a group cannot be a member of itself');
        tenant.addMember(target, member!, false);
      });
    });

    if (input.generate && options.generate !== false) generateSynthetic(tenant, input.generate, tenantIndex);
    return tenant;
  });
}
