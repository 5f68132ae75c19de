/**
 * A small typed Microsoft Graph (v1.0) client over fetch: retries throttling (429) and transient 5xx answers
 * honouring `Retry-After`, follows `@odata.nextLink` only on the configured Graph base, runs delta queries,
 * and offers the directory look-ups Tenantgate needs. The same code serves every cloud and the sandbox cloud.
 */
import { parseRetryAfter } from './errors';
import { GraphError, graphErrorFromBody } from './graph-errors';
import { assertOnGraphBase, normalizeGraphBase, resolveGraphUrl, type GraphPage, type Query } from './graph-paging';

export { GraphError, isResyncRequired } from './graph-errors';
export type { Query } from './graph-paging';

export const GLOBAL_ADMINISTRATOR_ROLE_TEMPLATE_ID = '62e90394-69f5-4237-9190-012177145e10';

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30_000;
const CHECK_MEMBER_GROUPS_BATCH = 20;

export interface GraphClientOptions {
  /** e.g. `https://graph.microsoft.com` (without `/v1.0`). */
  graphBase: string;
  /** Called before every request; return a currently valid access token. */
  accessToken: () => Promise<string> | string;
  fetch?: typeof fetch;
  /** Retries after the first attempt for 429/502/503/504 and network errors. Default 4. */
  maxRetries?: number;
  /** A `Retry-After` longer than this is not waited for: the GraphError is thrown with it. Default 60. */
  maxRetryAfterSeconds?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Timeout of each HTTP request. Default 30 s. */
  timeoutMs?: number;
  /** Source of randomness for backoff jitter, in [0, 1). Default Math.random. */
  random?: () => number;
}

export interface GetOptions {
  query?: Query;
  /** Adds `ConsistencyLevel: eventual` (needed for `$search` and `$count`). */
  eventual?: boolean;
}

export interface DirectoryObject {
  '@odata.type'?: string;
  id: string;
  displayName?: string | null;
  [key: string]: unknown;
}

export interface DirectoryRole extends DirectoryObject {
  roleTemplateId?: string;
}

export interface GraphUser {
  id: string;
  displayName: string | null;
  mail: string | null;
  userPrincipalName: string;
  accountEnabled?: boolean;
}

export interface GraphGroup {
  id: string;
  displayName: string | null;
  mail: string | null;
  mailEnabled?: boolean;
  securityEnabled?: boolean;
  description?: string | null;
}

export interface OrganizationSummary {
  id: string;
  displayName: string;
  defaultDomain: string | undefined;
  initialDomain: string | undefined;
}

export interface SearchResult<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
}

export interface DirectoryMemberRef {
  '@odata.type'?: string;
  id: string;
}

/**
 * A delta query run: iterate it for pages of changes, then read `deltaLink` for the next run.
 * Objects removed since the last run come as `{ id, '@removed': { reason } }`.
 */
export interface DeltaRun<T> extends AsyncIterable<T[]> {
  /** Available once every page was read; throws before that. */
  readonly deltaLink: string;
}

export const USER_SELECT = 'id,displayName,mail,userPrincipalName,accountEnabled';
export const GROUP_SELECT = 'id,displayName,mail,mailEnabled,securityEnabled,description';

/** Escapes a value for an OData string literal (single quotes are doubled). */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Escapes a term for a `$search` clause (`"property:term"`). */
function searchTerm(property: string, term: string): string {
  return `"${property}:${term.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Requests, retries, paging and delta runs: everything below the directory look-ups. */
function createGraphTransport(options: GraphClientOptions) {
  const base = normalizeGraphBase(options.graphBase);
  const doFetch = options.fetch ?? globalThis.fetch;
  const maxRetries = Math.max(0, options.maxRetries ?? 4);
  const maxRetryAfterSeconds = options.maxRetryAfterSeconds ?? 60;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const timeoutMs = options.timeoutMs ?? 30_000;
  const random = options.random ?? Math.random;

  /** Capped exponential backoff with jitter (between half and all of the step). */
  function backoffMs(attempt: number): number {
    const step = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
    return Math.round(step / 2 + random() * (step / 2));
  }

  async function request<T>(
    method: 'GET' | 'POST',
    pathOrUrl: string,
    opts: GetOptions & { body?: unknown } = {},
  ): Promise<T> {
    const url = resolveGraphUrl(base, pathOrUrl, opts.query);
    for (let attempt = 0; ; attempt++) {
      const token = await options.accessToken();
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
      if (opts.eventual) headers.consistencylevel = 'eventual';
      if (opts.body !== undefined) headers['content-type'] = 'application/json';
      let response: Response;
      try {
        response = await doFetch(url, {
          method,
          headers,
          ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
        if (attempt < maxRetries) {
          await sleep(backoffMs(attempt));
          continue;
        }
        throw new GraphError({
          status: 0,
          code: timedOut ? 'timeout' : 'network',
          message: timedOut ? 'Microsoft Graph did not answer in time' : 'Microsoft Graph could not be reached',
        });
      }
      if (response.ok) {
        if (response.status === 204) return undefined as T;
        const text = await response.text();
        if (text.length === 0) return undefined as T;
        try {
          return JSON.parse(text) as T;
        } catch {
          throw new GraphError({ status: response.status, code: 'invalidResponse', message: 'Microsoft Graph answered with a body that is not JSON' });
        }
      }
      const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
      const text = await response.text().catch(() => '');
      if (RETRYABLE_STATUS.has(response.status) && attempt < maxRetries && (retryAfter ?? 0) <= maxRetryAfterSeconds) {
        await sleep(retryAfter !== undefined ? retryAfter * 1000 : backoffMs(attempt));
        continue;
      }
      throw graphErrorFromBody(response.status, text, retryAfter);
    }
  }

  function get<T>(pathOrAbsoluteUrl: string, opts: GetOptions = {}): Promise<T> {
    return request<T>('GET', pathOrAbsoluteUrl, opts);
  }

  function post<T>(path: string, body: unknown, opts: GetOptions = {}): Promise<T> {
    return request<T>('POST', path, { ...opts, body });
  }

  /** Yields the `value` array of every page, following `@odata.nextLink` (only on the Graph base). */
  async function* pages<T>(pathOrAbsoluteUrl: string, opts: GetOptions = {}): AsyncGenerator<T[], void, undefined> {
    let page = await get<GraphPage<T>>(pathOrAbsoluteUrl, opts);
    for (;;) {
      yield page.value ?? [];
      const next = page['@odata.nextLink'];
      if (!next) return;
      const nextUrl = assertOnGraphBase(base, next);
      page = await get<GraphPage<T>>(nextUrl.toString(), { ...(opts.eventual ? { eventual: true } : {}) });
    }
  }

  async function all<T>(pathOrAbsoluteUrl: string, opts: GetOptions = {}): Promise<T[]> {
    const out: T[] = [];
    for await (const page of pages<T>(pathOrAbsoluteUrl, opts)) out.push(...page);
    return out;
  }

  /**
   * Runs a delta query: `path` starts a full round (e.g. `/users/delta` with a `$select`), a stored deltaLink
   * continues from the last round. Throws a GraphError for which `isResyncRequired()` is true when Graph asks
   * for a full resynchronisation.
   */
  function delta<T>(pathOrDeltaLink: string, opts: GetOptions = {}): DeltaRun<T> {
    let finalLink: string | undefined;
    const iterate = async function* (): AsyncGenerator<T[], void, undefined> {
      let page = await get<GraphPage<T>>(pathOrDeltaLink, opts);
      for (;;) {
        yield page.value ?? [];
        const next = page['@odata.nextLink'];
        if (next) {
          page = await get<GraphPage<T>>(assertOnGraphBase(base, next).toString());
          continue;
        }
        const link = page['@odata.deltaLink'];
        if (!link) {
          throw new GraphError({ status: 200, code: 'missingDeltaLink', message: 'The last delta page has no @odata.deltaLink' });
        }
        finalLink = assertOnGraphBase(base, link).toString();
        return;
      }
    };
    let started = false;
    return {
      [Symbol.asyncIterator]() {
        if (started) throw new Error('A delta run can be iterated only once');
        started = true;
        return iterate();
      },
      get deltaLink(): string {
        if (finalLink === undefined) throw new Error('The delta run has not been read to its end yet');
        return finalLink;
      },
    };
  }

  return { base, get, post, pages, all, delta };
}

type GraphTransport = ReturnType<typeof createGraphTransport>;

/** The directory look-ups Tenantgate needs, over a transport. */
function directoryLookups(transport: GraphTransport) {
  const { base, get, post, pages, all } = transport;

  async function me(): Promise<GraphUser> {
    return get<GraphUser>('/me', { query: { $select: USER_SELECT } });
  }

  async function memberOf(): Promise<DirectoryObject[]> {
    return all<DirectoryObject>('/me/memberOf');
  }

  async function isGlobalAdministrator(): Promise<boolean> {
    for await (const page of pages<DirectoryRole>('/me/memberOf')) {
      if (
        page.some(
          (o) =>
            o['@odata.type'] === '#microsoft.graph.directoryRole' &&
            typeof o.roleTemplateId === 'string' &&
            o.roleTemplateId.toLowerCase() === GLOBAL_ADMINISTRATOR_ROLE_TEMPLATE_ID,
        )
      ) {
        return true;
      }
    }
    return false;
  }

  async function organization(): Promise<OrganizationSummary> {
    const page = await get<GraphPage<{ id: string; displayName: string; verifiedDomains?: { name: string; isDefault?: boolean; isInitial?: boolean }[] }>>(
      '/organization',
      { query: { $select: 'id,displayName,verifiedDomains' } },
    );
    const org = page.value?.[0];
    if (!org) throw new GraphError({ status: 404, code: 'Request_ResourceNotFound', message: 'Microsoft Graph returned no organization' });
    const domains = org.verifiedDomains ?? [];
    return {
      id: org.id,
      displayName: org.displayName,
      defaultDomain: domains.find((d) => d.isDefault)?.name,
      initialDomain: domains.find((d) => d.isInitial)?.name,
    };
  }

  async function findUser(email: string): Promise<GraphUser | null> {
    const literal = odataString(email.trim());
    const page = await get<GraphPage<GraphUser>>('/users', {
      query: { $filter: `userPrincipalName eq ${literal} or mail eq ${literal}`, $select: USER_SELECT },
    });
    return page.value?.[0] ?? null;
  }

  async function findGroupByMail(email: string): Promise<GraphGroup | null> {
    const page = await get<GraphPage<GraphGroup>>('/groups', {
      query: { $filter: `mail eq ${odataString(email.trim())}`, $select: GROUP_SELECT },
    });
    return page.value?.[0] ?? null;
  }

  async function searchDirectory<K extends 'user' | 'group'>(
    type: K,
    search: string,
    opts: { top?: number; cursor?: string } = {},
  ): Promise<SearchResult<K extends 'user' ? GraphUser : GraphGroup>> {
    type Item = K extends 'user' ? GraphUser : GraphGroup;
    const collection = type === 'user' ? 'users' : 'groups';
    let page: GraphPage<Item>;
    if (opts.cursor) {
      const cursor = assertOnGraphBase(base, opts.cursor);
      if (!cursor.pathname.endsWith(`/v1.0/${collection}`)) {
        throw new GraphError({ status: 0, code: 'untrustedLink', message: `The cursor is not a ${type} search page` });
      }
      page = await get<GraphPage<Item>>(cursor.toString(), { eventual: true });
    } else {
      const term = search.trim();
      if (term.length === 0) throw new TypeError('search must not be empty');
      const top = Math.min(999, Math.max(1, Math.trunc(opts.top ?? 25)));
      page = await get<GraphPage<Item>>(`/${collection}`, {
        eventual: true,
        query: {
          $search: `${searchTerm('displayName', term)} OR ${searchTerm('mail', term)}`,
          $select: type === 'user' ? USER_SELECT : GROUP_SELECT,
          $top: top,
        },
      });
    }
    const next = page['@odata.nextLink'];
    return {
      items: page.value ?? [],
      ...(next ? { nextCursor: assertOnGraphBase(base, next).toString() } : {}),
    };
  }

  /**
   * The ids among `groupIds` of which the user is a member (transitively), asked 20 at a time.
   * `{ me: true }` asks about the signed-in person of a delegated token (`/me/checkMemberGroups`).
   */
  async function checkMemberGroups(user: string | { me: true }, groupIds: readonly string[]): Promise<string[]> {
    const path = typeof user === 'string' ? `/users/${encodeURIComponent(user)}/checkMemberGroups` : '/me/checkMemberGroups';
    const unique = [...new Set(groupIds)];
    const found: string[] = [];
    for (let i = 0; i < unique.length; i += CHECK_MEMBER_GROUPS_BATCH) {
      const batch = unique.slice(i, i + CHECK_MEMBER_GROUPS_BATCH);
      const res = await post<{ value?: string[] }>(path, { groupIds: batch });
      found.push(...(res?.value ?? []));
    }
    return found;
  }

  /** Pages of the ids (and `@odata.type`) of every direct and indirect member of a group. */
  function transitiveMembers(groupId: string): AsyncGenerator<DirectoryMemberRef[], void, undefined> {
    return pages<DirectoryMemberRef>(`/groups/${encodeURIComponent(groupId)}/transitiveMembers`, { query: { $select: 'id' } });
  }

  return { me, memberOf, isGlobalAdministrator, organization, findUser, findGroupByMail, searchDirectory, checkMemberGroups, transitiveMembers };
}

export function createGraphClient(options: GraphClientOptions) {
  const transport = createGraphTransport(options);
  const { base, get, post, pages, all, delta } = transport;
  return {
    graphBase: `${base.origin}${base.pathname}`.replace(/\/+$/, ''),
    get,
    post,
    pages,
    all,
    delta,
    ...directoryLookups(transport),
  };
}

export type GraphClient = ReturnType<typeof createGraphClient>;
