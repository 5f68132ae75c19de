import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { CLOUD_NAMES } from './clouds';
import { DirectoryError, type DirectoryObject, type DirectoryUser, type Tenant } from './directory';
import { newGuid } from './crypto-utils';
import { FixtureError, fixtureGroup, fixtureUser, parseFixture } from './fixture';
import { ID_TOKEN_TAMPERS } from './identity/tamper';
import { ROLE_BY_NAME } from './roles';
import type { SandboxState } from './state';

/** The sandbox-only control endpoints of the contract, under /_sandbox. JSON in and out. */

class ControlError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const parse = <T>(schema: z.ZodType<T>, body: unknown): T => {
  const result = schema.safeParse(body ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ControlError(400, 'BAD_REQUEST', `${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return result.data;
};

const registerAppBody = z.object({
  displayName: z.string().min(1),
  redirectUris: z.array(z.string().url()).min(1),
  postLogoutRedirectUris: z.array(z.string().url()).optional(),
  /** Answer the registration with the same name and redirect URIs if there is one (a portal that restarts keeps its client id). */
  reuseExisting: z.boolean().optional(),
});
const patchUserBody = z.object({
  displayName: z.string().min(1).optional(),
  accountEnabled: z.boolean().optional(),
  password: z.string().min(1).optional(),
  roles: z.array(z.string().refine((r) => ROLE_BY_NAME.has(r), 'unknown role')).optional(),
});
const clockBody = z.object({ advanceSeconds: z.number().finite().min(0) });
const throttleBody = z.union([
  z.object({ tenantId: z.string(), requests: z.number().int().min(0), retryAfterSeconds: z.number().min(0).default(1) }),
  z.object({ tenantId: z.string(), resourceUnitsPer10s: z.number().int().min(1).nullable() }),
]);
const serviceFaultBody = z
  .object({
    tenantId: z.string(),
    status: z.number().int().min(400).max(599).optional(),
    /** Graph only: drop the connection without an answer. */
    reset: z.boolean().optional(),
    /** Answer after this long (with `status` or `reset`, or else normally); Graph or the token endpoint. */
    delayMs: z.number().int().min(0).max(120_000).optional(),
    requests: z.number().int().min(0).default(1),
    retryAfterSeconds: z.number().min(0).optional(),
    /** `graph` (default) or `token`: the identity platform's token endpoint for that tenant. */
    target: z.enum(['graph', 'token']).default('graph'),
  })
  .refine((b) => (b.status !== undefined || b.delayMs !== undefined || (b.reset === true && b.target === 'graph')) && !(b.reset && b.target === 'token'), {
    message: 'give status or delayMs (graph or token), or reset (graph only)',
  });
const idTokenFaultBody = z.object({
  target: z.literal('id_token'),
  tamper: z.enum(ID_TOKEN_TAMPERS),
  requests: z.number().int().min(0).default(1),
  tenantId: z.string().optional(),
});

export function registerControlRoutes(app: FastifyInstance, state: SandboxState): void {
  const tenantOf = (id: string): Tenant => {
    const tenant = state.directory.byId(id) ?? CLOUD_NAMES.map((c) => state.directory.resolve(c, id)).find(Boolean);
    if (!tenant) throw new ControlError(404, 'NOT_FOUND', `No tenant '${id}' in the sandbox cloud.`);
    return tenant;
  };
  const userOf = (tenant: Tenant, idOrUpn: string): DirectoryUser => {
    const user = tenant.findUser(idOrUpn);
    if (!user) throw new ControlError(404, 'NOT_FOUND', `No user '${idOrUpn}' in tenant ${tenant.displayName}.`);
    return user;
  };
  const groupOf = (tenant: Tenant, id: string) => {
    const group = tenant.findGroup(id) ?? tenant.groups.find((g) => g.displayNameLower === id.toLowerCase());
    if (!group) throw new ControlError(404, 'NOT_FOUND', `No group '${id}' in tenant ${tenant.displayName}.`);
    return group;
  };
  const memberOf = (tenant: Tenant, ref: string): DirectoryObject => {
    const member = tenant.findUser(ref) ?? tenant.findGroup(ref) ?? tenant.groups.find((g) => g.displayNameLower === ref.toLowerCase());
    if (!member) throw new ControlError(404, 'NOT_FOUND', `No user or group '${ref}' in tenant ${tenant.displayName}.`);
    return member;
  };
  const userSummary = (u: DirectoryUser) => ({ id: u.id, userPrincipalName: u.userPrincipalName, displayName: u.displayName, mail: u.mail, accountEnabled: u.accountEnabled, roles: u.roles });

  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply: FastifyReply) => {
    if (error instanceof ControlError) return reply.code(error.status).send({ error: { code: error.code, message: error.message } });
    if (error instanceof DirectoryError) return reply.code(error.status).send({ error: { code: error.status === 404 ? 'NOT_FOUND' : 'CONFLICT', message: error.message } });
    if (error instanceof FixtureError) return reply.code(400).send({ error: { code: 'FIXTURE_INVALID', message: error.message } });
    if (error.statusCode && error.statusCode < 500) return reply.code(error.statusCode).send({ error: { code: 'BAD_REQUEST', message: error.message } });
    reply.log.error(error);
    return reply.code(500).send({ error: { code: 'INTERNAL', message: 'The sandbox cloud failed to handle this request.' } });
  });

  app.get('/_sandbox/clouds', async () => Object.fromEntries(CLOUD_NAMES.map((c) => [c, state.urls(c)])));

  app.post('/_sandbox/apps', async (request, reply) => {
    const { reuseExisting, ...input } = parse(registerAppBody, request.body);
    if (!reuseExisting) return reply.code(201).send(state.apps.register(input));
    const { reused, ...registration } = state.apps.registerOrReuse(input);
    return reply.code(reused ? 200 : 201).send(registration);
  });

  app.post('/_sandbox/fixture', async (request) => {
    state.installFixture(parseFixture(request.body));
    return { tenants: tenantList() };
  });

  const tenantList = () =>
    state.directory.all().map((t) => ({ id: t.id, cloud: t.cloud, ...(t.variant ? { variant: t.variant } : {}), displayName: t.displayName, defaultDomain: t.defaultDomain, domains: t.domains, users: t.users.length, groups: t.groups.length }));
  app.get('/_sandbox/tenants', async () => ({ tenants: tenantList() }));

  app.post<{ Params: { tenantId: string } }>('/_sandbox/tenants/:tenantId/users', async (request, reply) => {
    const tenant = tenantOf(request.params.tenantId);
    const input = parse(fixtureUser, request.body);
    const domain = input.userPrincipalName.split('@')[1].toLowerCase();
    if (!tenant.domains.some((d) => d.name === domain)) throw new ControlError(400, 'BAD_REQUEST', `userPrincipalName: domain "${domain}" is not one of the tenant's domains.`);
    (input.roles ?? []).forEach((r) => {
      if (!ROLE_BY_NAME.has(r)) throw new ControlError(400, 'BAD_REQUEST', `roles: unknown role "${r}".`);
    });
    const id = (input.id ?? newGuid()).toLowerCase();
    state.changeTenant({ op: 'addUser', tenantId: tenant.id, user: { ...input, id } });
    return reply.code(201).send(userSummary(tenant.usersById.get(id)!));
  });

  app.patch<{ Params: { tenantId: string; user: string } }>('/_sandbox/tenants/:tenantId/users/:user', async (request) => {
    const tenant = tenantOf(request.params.tenantId);
    const user = userOf(tenant, request.params.user);
    state.changeTenant({ op: 'updateUser', tenantId: tenant.id, userId: user.id, patch: parse(patchUserBody, request.body), atMs: state.clock.nowMs() });
    return userSummary(user);
  });

  app.delete<{ Params: { tenantId: string; user: string } }>('/_sandbox/tenants/:tenantId/users/:user', async (request, reply) => {
    const tenant = tenantOf(request.params.tenantId);
    state.changeTenant({ op: 'deleteUser', tenantId: tenant.id, userId: userOf(tenant, request.params.user).id });
    return reply.code(204).send();
  });

  app.post<{ Params: { tenantId: string } }>('/_sandbox/tenants/:tenantId/groups', async (request, reply) => {
    const tenant = tenantOf(request.params.tenantId);
    const input = parse(fixtureGroup, request.body);
    const members = (input.members ?? []).map((ref) => memberOf(tenant, ref));
    const { members: _refs, ...groupInput } = input;
    const id = (input.id ?? newGuid()).toLowerCase();
    state.changeTenant({ op: 'addGroup', tenantId: tenant.id, group: { ...groupInput, id }, memberIds: members.map((m) => m.id) });
    const group = tenant.groupsById.get(id)!;
    return reply.code(201).send({ id: group.id, displayName: group.displayName, mail: group.mail, members: [...group.members] });
  });

  app.delete<{ Params: { tenantId: string; group: string } }>('/_sandbox/tenants/:tenantId/groups/:group', async (request, reply) => {
    const tenant = tenantOf(request.params.tenantId);
    state.changeTenant({ op: 'deleteGroup', tenantId: tenant.id, groupId: groupOf(tenant, request.params.group).id });
    return reply.code(204).send();
  });

  app.post<{ Params: { tenantId: string; group: string } }>('/_sandbox/tenants/:tenantId/groups/:group/members', async (request, reply) => {
    const tenant = tenantOf(request.params.tenantId);
    const group = groupOf(tenant, request.params.group);
    const { member } = parse(z.object({ member: z.string().min(1) }), request.body);
    const object = memberOf(tenant, member);
    if (object.id === group.id) throw new ControlError(400, 'BAD_REQUEST', 'member: a group cannot be a member of itself.');
    if (!group.members.has(object.id)) state.changeTenant({ op: 'addMember', tenantId: tenant.id, groupId: group.id, memberId: object.id });
    return reply.code(204).send();
  });

  app.delete<{ Params: { tenantId: string; group: string; member: string } }>('/_sandbox/tenants/:tenantId/groups/:group/members/:member', async (request, reply) => {
    const tenant = tenantOf(request.params.tenantId);
    const group = groupOf(tenant, request.params.group);
    const object = memberOf(tenant, request.params.member);
    if (!group.members.has(object.id)) throw new ControlError(404, 'NOT_FOUND', `'${request.params.member}' is not a member of ${group.displayName}.`);
    state.changeTenant({ op: 'removeMember', tenantId: tenant.id, groupId: group.id, memberId: object.id });
    return reply.code(204).send();
  });

  app.post<{ Params: { tenantId: string; user: string } }>('/_sandbox/tenants/:tenantId/users/:user/revoke-sessions', async (request, reply) => {
    const tenant = tenantOf(request.params.tenantId);
    state.changeTenant({ op: 'revokeSessions', tenantId: tenant.id, userId: userOf(tenant, request.params.user).id, atMs: state.clock.nowMs() });
    return reply.code(204).send();
  });

  app.post<{ Params: { tenantId: string } }>('/_sandbox/tenants/:tenantId/revoke-consent', async (request, reply) => {
    const tenant = tenantOf(request.params.tenantId);
    const { clientId } = parse(z.object({ clientId: z.string().optional() }), request.body);
    state.consents.revoke(tenant.id, clientId?.toLowerCase());
    return reply.code(204).send();
  });

  // An administrator removes permissions from an app's consent in Entra: later tokens carry only the rest.
  app.post<{ Params: { tenantId: string } }>('/_sandbox/tenants/:tenantId/remove-permissions', async (request, reply) => {
    const tenant = tenantOf(request.params.tenantId);
    const { clientId, scopes } = parse(z.object({ clientId: z.string().min(1), scopes: z.array(z.string().min(1).max(100)).min(1).max(50) }), request.body);
    state.consents.removeScopes(tenant.id, clientId.toLowerCase(), scopes);
    return reply.code(204).send();
  });

  // The tenant's app consent policy: consent grants every requested permission except these.
  app.post<{ Params: { tenantId: string } }>('/_sandbox/tenants/:tenantId/consent-policy', async (request, reply) => {
    const tenant = tenantOf(request.params.tenantId);
    const { blockedScopes } = parse(z.object({ blockedScopes: z.array(z.string().min(1).max(100)).max(50) }), request.body);
    state.consents.setBlockedScopes(tenant.id, blockedScopes);
    return reply.code(204).send();
  });

  const clockView = () => ({ now: state.clock.now().toISOString(), offsetSeconds: state.clock.offsetSeconds });
  app.get('/_sandbox/clock', async () => clockView());
  app.post('/_sandbox/clock', async (request) => {
    state.clock.advance(parse(clockBody, request.body).advanceSeconds);
    return clockView();
  });

  app.post('/_sandbox/throttle', async (request, reply) => {
    const body = parse(throttleBody, request.body);
    const tenant = tenantOf(body.tenantId);
    if ('resourceUnitsPer10s' in body) state.traffic.setBudget(tenant.id, body.resourceUnitsPer10s);
    else state.traffic.throttleNext(tenant.id, body.requests, body.retryAfterSeconds);
    return reply.code(204).send();
  });

  app.post('/_sandbox/faults', async (request, reply) => {
    if ((request.body as { target?: unknown } | undefined)?.target === 'id_token') {
      const body = parse(idTokenFaultBody, request.body);
      state.idTokenTampering.set(body.tamper, body.requests, body.tenantId ? tenantOf(body.tenantId).id : null);
      return reply.code(204).send();
    }
    const body = parse(serviceFaultBody, request.body);
    const tenantId = tenantOf(body.tenantId).id;
    if (body.target === 'token') state.traffic.failNextTokenRequests(tenantId, { status: body.status, delayMs: body.delayMs }, body.requests, body.retryAfterSeconds);
    else state.traffic.failNext(tenantId, { status: body.status, reset: body.reset, delayMs: body.delayMs }, body.requests, body.retryAfterSeconds);
    return reply.code(204).send();
  });

  app.get<{ Querystring: { tenantId?: string } }>('/_sandbox/requests', async (request) => {
    if (request.query.tenantId) {
      const tenant = tenantOf(request.query.tenantId);
      return { tenantId: tenant.id, ...state.traffic.usageOf(tenant.id) };
    }
    return { tenants: state.directory.all().map((t) => ({ tenantId: t.id, ...state.traffic.usageOf(t.id) })) };
  });

  app.post('/_sandbox/requests/reset', async (request, reply) => {
    const { tenantId } = parse(z.object({ tenantId: z.string().optional() }), request.body);
    state.traffic.resetUsage(tenantId ? tenantOf(tenantId).id : undefined);
    return reply.code(204).send();
  });
}
