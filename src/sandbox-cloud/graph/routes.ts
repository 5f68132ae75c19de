import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GRAPH_SITES, graphSiteUrl, type GraphSite } from '../clouds';
import { newGuid } from '../crypto-utils';
import type { DirectoryObject } from '../directory';
import type { SandboxState } from '../state';
import { authenticateGraphRequest, requireScope, signedInUser, type GraphCaller } from './auth';
import { deltaPage, initialDeltaState, parseDeltaToken, type DeltaKind } from './delta';
import { badRequest, GraphError, graphErrorBody, notFound } from './errors';
import { linkWith, pageArray, pageDirectoryCollection } from './paging';
import { parseListQuery, parseSelect } from './query';
import { serializeDirectoryObject, serializeDirectoryRole, serializeGroup, serializeUser, userJson, type EntityKind } from './serialize';

/** Microsoft Graph v1.0 (the directory reads Tenantgate uses) for every cloud, DoD tenants on their own site. */

const SCOPES = {
  me: ['User.Read', 'User.ReadBasic.All', 'User.Read.All', 'Directory.Read.All'],
  memberOf: ['User.Read', 'GroupMember.Read.All', 'Group.Read.All', 'Directory.Read.All'],
  organization: ['User.Read', 'Organization.Read.All', 'Directory.Read.All'],
  domains: ['Domain.Read.All', 'Directory.Read.All'],
  users: ['User.ReadBasic.All', 'User.Read.All', 'Directory.Read.All'],
  groups: ['GroupMember.Read.All', 'Group.Read.All', 'Directory.Read.All'],
  checkMemberGroups: ['User.Read.All', 'GroupMember.Read.All', 'Group.Read.All', 'Directory.Read.All'],
  usersDelta: ['User.Read.All', 'Directory.Read.All'],
  groupsDelta: ['GroupMember.Read.All', 'Group.Read.All', 'Directory.Read.All'],
  openid: ['openid'],
} as const;

interface GraphContext {
  caller: GraphCaller;
  url: URL;
  params: Record<string, string>;
  query: URLSearchParams;
  eventual: boolean;
  body: unknown;
  headers: FastifyRequest['headers'];
  metadata: string;
}

interface RouteOptions {
  /** Resource units before the `$select` discount (Graph's throttling costs). */
  baseCost: number;
  scopes: readonly string[];
}

const ODATA_JSON = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

export function registerGraphRoutes(app: FastifyInstance, state: SandboxState): void {
  for (const site of GRAPH_SITES) registerSite(app, state, site);
}

function registerSite(app: FastifyInstance, state: SandboxState, site: GraphSite): void {
  const prefix = `/${site.name}/graph/v1.0`;

  const route = (method: 'GET' | 'POST', path: string, options: RouteOptions, handler: (ctx: GraphContext) => unknown) => {
    app.route({
      method,
      url: `${prefix}${path}`,
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const requestId = newGuid();
        const clientRequestId = String(request.headers['client-request-id'] ?? requestId);
        reply.header('request-id', requestId).header('client-request-id', clientRequestId);
        try {
          const caller = await authenticateGraphRequest(state, site, request.headers.authorization);
          const url = new URL(request.url, state.baseUrl);
          const cost = Math.max(1, options.baseCost - (url.searchParams.has('$select') ? 1 : 0));
          const admission = state.traffic.admit(caller.tenant.id, caller.tenant.users.length, caller.clientId, cost, state.clock.nowMs());
          if (admission.delayMs) await new Promise((resolve) => setTimeout(resolve, admission.delayMs));
          if (!admission.ok && admission.reset) {
            // A connection reset, as a load balancer or a dropped link gives: no status, no body.
            reply.hijack();
            request.raw.socket.destroy();
            return reply;
          }
          if (!admission.ok) {
            const headers: Record<string, string> = admission.retryAfterSeconds ? { 'retry-after': String(admission.retryAfterSeconds) } : {};
            throw new GraphError(admission.status, admission.code, admission.message, headers);
          }
          requireScope(caller, options.scopes);
          const result = await handler({
            caller,
            url,
            params: request.params as Record<string, string>,
            query: url.searchParams,
            eventual: String(request.headers.consistencylevel ?? '').toLowerCase() === 'eventual',
            body: request.body,
            headers: request.headers,
            metadata: `${graphSiteUrl(state.baseUrl, site)}/v1.0/$metadata`,
          });
          return reply.type(ODATA_JSON).send(toJsonText(result));
        } catch (error) {
          if (!(error instanceof GraphError)) throw error;
          for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
          return reply.code(error.status).type('application/json').send(graphErrorBody(error, requestId, clientRequestId, state.clock.now()));
        }
      },
    });
  };

  const selectSuffix = (select: string[] | null) => (select ? `(${select.join(',')})` : '');

  // --- the signed-in user -------------------------------------------------------------------------------
  const me = (ctx: GraphContext) => {
    const user = signedInUser(ctx.caller);
    if (!user) throw notFound(ctx.caller.userId);
    return user;
  };

  route('GET', '/me', { baseCost: 1, scopes: SCOPES.me }, (ctx) => {
    const select = ctx.query.has('$select') ? parseSelect('user', ctx.query.get('$select')!) : null;
    return { '@odata.context': `${ctx.metadata}#users/$entity`, ...serializeUser(me(ctx), select) };
  });

  const memberOfPage = (ctx: GraphContext, object: DirectoryObject, includeRoles: boolean) => {
    const query = parseListQuery(ctx.query, 'directoryObject', ctx.eventual);
    const groups = [...object.memberOf].map((id) => ctx.caller.tenant.groupsById.get(id)).filter((g) => g !== undefined);
    const entries: Record<string, unknown>[] = groups.map((g) => serializeDirectoryObject(g, query.select));
    if (includeRoles && object.kind === 'user') {
      for (const role of object.roles) {
        const serialized = serializeDirectoryRole(ctx.caller.tenant, role);
        if (serialized) entries.push(serialized);
      }
    }
    return collectionResponse(ctx, `${ctx.metadata}#directoryObjects${selectSuffix(query.select)}`, pageArray(entries, query.top, query.skiptoken));
  };

  route('GET', '/me/memberOf', { baseCost: 2, scopes: SCOPES.memberOf }, (ctx) => memberOfPage(ctx, me(ctx), true));

  route('POST', '/me/checkMemberGroups', { baseCost: 1, scopes: [...SCOPES.checkMemberGroups, 'User.Read'] }, (ctx) => checkMemberGroups(ctx, me(ctx)));

  route('GET', '/oidc/userinfo', { baseCost: 1, scopes: SCOPES.openid }, (ctx) => {
    const user = me(ctx);
    return { sub: user.id, name: user.displayName, family_name: user.surname, given_name: user.givenName, email: user.mail };
  });

  // --- organization and domains -----------------------------------------------------------------------
  route('GET', '/organization', { baseCost: 1, scopes: SCOPES.organization }, (ctx) => {
    const tenant = ctx.caller.tenant;
    return {
      '@odata.context': `${ctx.metadata}#organization`,
      value: [
        {
          id: tenant.id,
          deletedDateTime: null,
          createdDateTime: tenant.createdDateTime,
          displayName: tenant.displayName,
          countryLetterCode: 'US',
          preferredLanguage: 'en',
          tenantType: 'AAD',
          verifiedDomains: tenant.domains.map((d) => ({
            capabilities: 'Email, OfficeCommunicationsOnline',
            isDefault: d.isDefault,
            isInitial: d.isInitial,
            name: d.name,
            type: 'Managed',
          })),
        },
      ],
    };
  });

  route('GET', '/domains', { baseCost: 1, scopes: SCOPES.domains }, (ctx) => ({
    '@odata.context': `${ctx.metadata}#domains`,
    value: ctx.caller.tenant.domains.map((d) => ({
      authenticationType: 'Managed',
      availabilityStatus: null,
      id: d.name,
      isAdminManaged: true,
      isDefault: d.isDefault,
      isInitial: d.isInitial,
      isRoot: true,
      isVerified: true,
      supportedServices: ['Email', 'OfficeCommunicationsOnline'],
      passwordValidityPeriodInDays: 2147483647,
      passwordNotificationWindowInDays: 14,
    })),
  }));

  // --- users ----------------------------------------------------------------------------------------------
  route('GET', '/users', { baseCost: 2, scopes: SCOPES.users }, (ctx) => {
    const query = parseListQuery(ctx.query, 'user', ctx.eventual);
    const page = pageDirectoryCollection(ctx.caller.tenant, ctx.caller.tenant.users, 'user', query);
    // Users are pre-serialized text (cached per user) so large pages cost one string join.
    const items = page.items.map((u) => new RawJson(userJson(u as never, query.select)));
    return collectionResponse(ctx, `${ctx.metadata}#users${selectSuffix(query.select)}`, { ...page, items });
  });

  route('GET', '/users/delta', { baseCost: 1, scopes: SCOPES.usersDelta }, (ctx) => delta(ctx, 'user'));

  const userParam = (ctx: GraphContext) => {
    const user = ctx.caller.tenant.findUser(decodeURIComponent(ctx.params.id));
    if (!user) throw notFound(ctx.params.id);
    return user;
  };

  route('GET', '/users/:id', { baseCost: 1, scopes: SCOPES.users }, (ctx) => {
    const select = ctx.query.has('$select') ? parseSelect('user', ctx.query.get('$select')!) : null;
    return { '@odata.context': `${ctx.metadata}#users${selectSuffix(select)}/$entity`, ...serializeUser(userParam(ctx), select) };
  });

  route('GET', '/users/:id/memberOf', { baseCost: 2, scopes: SCOPES.groups }, (ctx) => memberOfPage(ctx, userParam(ctx), true));

  route('POST', '/users/:id/checkMemberGroups', { baseCost: 1, scopes: SCOPES.checkMemberGroups }, (ctx) => checkMemberGroups(ctx, userParam(ctx)));

  // --- groups -------------------------------------------------------------------------------------------
  route('GET', '/groups', { baseCost: 1, scopes: SCOPES.groups }, (ctx) => {
    const query = parseListQuery(ctx.query, 'group', ctx.eventual);
    const page = pageDirectoryCollection(ctx.caller.tenant, ctx.caller.tenant.groups, 'group', query);
    const items = page.items.map((g) => serializeGroup(g as never, query.select));
    return collectionResponse(ctx, `${ctx.metadata}#groups${selectSuffix(query.select)}`, { ...page, items });
  });

  route('GET', '/groups/delta', { baseCost: 1, scopes: SCOPES.groupsDelta }, (ctx) => delta(ctx, 'group'));

  const groupParam = (ctx: GraphContext) => {
    const group = ctx.caller.tenant.findGroup(ctx.params.id);
    if (!group) throw notFound(ctx.params.id);
    return group;
  };

  route('GET', '/groups/:id', { baseCost: 1, scopes: SCOPES.groups }, (ctx) => {
    const select = ctx.query.has('$select') ? parseSelect('group', ctx.query.get('$select')!) : null;
    return { '@odata.context': `${ctx.metadata}#groups${selectSuffix(select)}/$entity`, ...serializeGroup(groupParam(ctx), select) };
  });

  const membersPage = (ctx: GraphContext, members: DirectoryObject[]) => {
    const query = parseListQuery(ctx.query, 'directoryObject', ctx.eventual);
    const filtered = members.filter((m) => (!query.filter || query.filter(m)) && (!query.search || query.search(m)));
    const page = pageArray(filtered, query.top, query.skiptoken);
    const items = page.items.map((m) => serializeDirectoryObject(m, query.select));
    return collectionResponse(ctx, `${ctx.metadata}#directoryObjects${selectSuffix(query.select)}`, { ...page, items, count: query.count ? filtered.length : undefined });
  };

  route('GET', '/groups/:id/members', { baseCost: 3, scopes: SCOPES.groups }, (ctx) => {
    const group = groupParam(ctx);
    const members = [...group.members].map((id) => ctx.caller.tenant.findObject(id)).filter((m) => m !== undefined);
    return membersPage(ctx, members);
  });

  route('GET', '/groups/:id/transitiveMembers', { baseCost: 5, scopes: SCOPES.groups }, (ctx) => membersPage(ctx, ctx.caller.tenant.transitiveMembers(groupParam(ctx))));

  // --- helpers ------------------------------------------------------------------------------------------
  function checkMemberGroups(ctx: GraphContext, object: DirectoryObject) {
    const groupIds = (ctx.body as { groupIds?: unknown } | undefined)?.groupIds;
    if (!Array.isArray(groupIds) || groupIds.some((id) => typeof id !== 'string')) throw badRequest("The request body must contain 'groupIds', an array of group ids.");
    if (groupIds.length > 20) throw badRequest('The number of groupIds exceeds the limit of 20.');
    const memberOf = ctx.caller.tenant.transitiveMemberOf(object);
    return { '@odata.context': `${ctx.metadata}#Collection(Edm.String)`, value: (groupIds as string[]).filter((id) => memberOf.has(id.toLowerCase())) };
  }

  function delta(ctx: GraphContext, kind: DeltaKind) {
    const tenant = ctx.caller.tenant;
    const skiptoken = ctx.query.get('$skiptoken');
    const deltatoken = ctx.query.get('$deltatoken');
    let deltaState;
    if (skiptoken || deltatoken) {
      deltaState = parseDeltaToken(tenant, kind, (skiptoken ?? deltatoken)!, !skiptoken);
    } else {
      const requested = ctx.query.get('$select');
      const names = requested ? requested.split(',').map((s) => s.trim()).filter(Boolean) : null;
      const includeMembers = kind === 'group' && (!names || names.some((n) => n.toLowerCase() === 'members'));
      const propertyNames = names?.filter((n) => n.toLowerCase() !== 'members') ?? null;
      const select = propertyNames ? parseSelect(kind as EntityKind, propertyNames.join(',')) : null;
      deltaState = initialDeltaState(tenant, kind, select && select.length > 0 ? select : null, includeMembers);
    }
    const preferred = /odata\.maxpagesize=(\d+)/i.exec(String(ctx.headers.prefer ?? ''))?.[1];
    const pageSize = Math.min(999, Math.max(1, Number(preferred ?? 100)));
    const page = deltaPage(tenant, deltaState, pageSize);
    const set = kind === 'user' ? 'users' : 'groups';
    const result: Record<string, unknown> = { '@odata.context': `${ctx.metadata}#${set}${selectSuffix(deltaState.sel)}` };
    if (page.skiptoken) result['@odata.nextLink'] = linkWith(ctx.url, { $skiptoken: page.skiptoken }, false);
    if (page.deltatoken) result['@odata.deltaLink'] = linkWith(ctx.url, { $deltatoken: page.deltatoken }, false);
    result.value = page.value;
    return result;
  }
}

/** JSON text to splice into a response as is. */
class RawJson {
  constructor(readonly text: string) {}
}

function toJsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
  if (value && typeof value === 'object' && Object.values(value).some((v) => v instanceof RawJson || Array.isArray(v))) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function collectionResponse(ctx: GraphContext, context: string, page: { items: unknown[]; skiptoken: string | null; count?: number }) {
  const result: Record<string, unknown> = { '@odata.context': context };
  if (page.count !== undefined) result['@odata.count'] = page.count;
  if (page.skiptoken) result['@odata.nextLink'] = linkWith(ctx.url, { $skiptoken: page.skiptoken });
  result.value = page.items;
  return result;
}
