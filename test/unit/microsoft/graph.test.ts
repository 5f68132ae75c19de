import { describe, expect, it } from 'vitest';
import { GraphError, createGraphClient, isResyncRequired, odataString } from '../../../src/server/microsoft/graph';
import { fakeFetch, json, type Handler } from './fake-fetch';

const BASE = 'https://graph.example.test/global/graph';

function client(handler: Handler, extra: Partial<Parameters<typeof createGraphClient>[0]> = {}) {
  const fake = fakeFetch(handler);
  const sleeps: number[] = [];
  const graph = createGraphClient({
    graphBase: BASE,
    accessToken: () => 'AT-1',
    fetch: fake.fetch,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...extra,
  });
  return { graph, requests: fake.requests, sleeps };
}

describe('Graph requests', () => {
  it('resolves paths under /v1.0, sends the bearer token and ConsistencyLevel only when asked', async () => {
    const { graph, requests } = client(() => json({ id: 'x' }));
    await graph.get('/users', { query: { $select: 'id,displayName', $top: 5, $filter: "mail eq 'a b'" } });
    await graph.get('/users/$count', { eventual: true });
    expect(requests[0].url).toBe(`${BASE}/v1.0/users?$select=id%2CdisplayName&$top=5&$filter=mail%20eq%20%27a%20b%27`);
    expect(requests[0].headers.authorization).toBe('Bearer AT-1');
    expect(requests[0].headers.consistencylevel).toBeUndefined();
    expect(requests[1].headers.consistencylevel).toBe('eventual');
  });

  it('parses Graph error bodies into GraphError without retrying client errors', async () => {
    const { graph, requests } = client(() =>
      json({ error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges', innerError: { 'request-id': 'r-1' } } }, 403),
    );
    const err = (await graph.get('/users').catch((e: unknown) => e)) as GraphError;
    expect(err).toBeInstanceOf(GraphError);
    expect(err).toMatchObject({ status: 403, code: 'Authorization_RequestDenied', message: 'Insufficient privileges', requestId: 'r-1' });
    expect(requests).toHaveLength(1);
    expect(JSON.stringify(err)).not.toContain('AT-1');
  });

  it('retries 429 honouring Retry-After seconds, then succeeds', async () => {
    const { graph, requests, sleeps } = client((_r, i) => (i < 2 ? json({ error: { code: 'TooManyRequests', message: 'slow down' } }, 429, { 'retry-after': '3' }) : json({ ok: 1 })));
    await expect(graph.get('/me')).resolves.toEqual({ ok: 1 });
    expect(requests).toHaveLength(3);
    expect(sleeps).toEqual([3000, 3000]);
  });

  it('backs off exponentially with jitter when a 503/502/504 has no Retry-After', async () => {
    let n = 0;
    const statuses = [503, 502, 504];
    const { graph, sleeps } = client(() => (n < 3 ? new Response('', { status: statuses[n++] }) : json({ ok: 1 })));
    await graph.get('/me');
    expect(sleeps).toEqual([375, 750, 1500]);
  });

  it('gives up after maxRetries and throws the last error with its Retry-After', async () => {
    const { graph, requests } = client(() => json({ error: { code: 'TooManyRequests', message: 'x' } }, 429, { 'retry-after': '1' }), { maxRetries: 2 });
    const err = (await graph.get('/me').catch((e: unknown) => e)) as GraphError;
    expect(err).toMatchObject({ status: 429, code: 'TooManyRequests', retryAfterSeconds: 1, transient: true });
    expect(requests).toHaveLength(3);
  });

  it('does not wait for a Retry-After above the cap', async () => {
    const { graph, requests, sleeps } = client(() => json({ error: { code: 'TooManyRequests', message: 'x' } }, 429, { 'retry-after': '120' }));
    await expect(graph.get('/me')).rejects.toMatchObject({ status: 429, retryAfterSeconds: 120 });
    expect(requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('reports network failures as status 0, code network after retrying', async () => {
    const { graph, requests } = client(() => Promise.reject(new TypeError('fetch failed')), { maxRetries: 1 });
    await expect(graph.get('/me')).rejects.toMatchObject({ name: 'GraphError', status: 0, code: 'network' });
    expect(requests).toHaveLength(2);
  });

  it('refuses absolute URLs off the Graph base', async () => {
    const { graph, requests } = client(() => json({}));
    await expect(graph.get('https://evil.example/global/graph/v1.0/users')).rejects.toMatchObject({ code: 'untrustedLink' });
    await expect(graph.get('https://graph.example.test/usgov/graph/v1.0/users')).rejects.toMatchObject({ code: 'untrustedLink' });
    expect(requests).toHaveLength(0);
  });
});

describe('paging', () => {
  it('follows absolute nextLinks until absent', async () => {
    const { graph, requests } = client((req) => {
      const skip = new URL(req.url).searchParams.get('$skiptoken');
      if (!skip) return json({ value: [1, 2], '@odata.nextLink': `${BASE}/v1.0/users?$skiptoken=p2` });
      if (skip === 'p2') return json({ value: [3], '@odata.nextLink': `${BASE}/v1.0/users?$skiptoken=p3` });
      return json({ value: [4] });
    });
    const seen: number[][] = [];
    for await (const page of graph.pages<number>('/users', { query: { $top: 2 } })) seen.push(page);
    expect(seen).toEqual([[1, 2], [3], [4]]);
    expect(requests.map((r) => new URL(r.url).searchParams.get('$skiptoken'))).toEqual([null, 'p2', 'p3']);
  });

  it('throws instead of sending the token to a nextLink on another origin', async () => {
    const { graph, requests } = client(() => json({ value: [1], '@odata.nextLink': 'https://attacker.example/v1.0/users?$skiptoken=x' }));
    const seen: number[][] = [];
    const err = await (async () => {
      for await (const page of graph.pages<number>('/users')) seen.push(page);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([[1]]);
    expect(err).toMatchObject({ name: 'GraphError', code: 'untrustedLink' });
    expect(requests).toHaveLength(1);
    expect(requests.every((r) => r.url.startsWith(BASE))).toBe(true);
  });
});

describe('delta', () => {
  it('yields pages, then exposes the final deltaLink', async () => {
    const { graph } = client((req) =>
      req.url.includes('skiptoken')
        ? json({ value: [{ id: 'b', '@removed': { reason: 'deleted' } }], '@odata.deltaLink': `${BASE}/v1.0/users/delta?$deltatoken=D1` })
        : json({ value: [{ id: 'a' }], '@odata.nextLink': `${BASE}/v1.0/users/delta?$skiptoken=S1` }),
    );
    const run = graph.delta<{ id: string }>('/users/delta', { query: { $select: 'id,displayName' } });
    expect(() => run.deltaLink).toThrow(/not been read/);
    const ids: string[] = [];
    for await (const page of run) ids.push(...page.map((o) => o.id));
    expect(ids).toEqual(['a', 'b']);
    expect(run.deltaLink).toBe(`${BASE}/v1.0/users/delta?$deltatoken=D1`);
  });

  it('surfaces resyncRequired as a GraphError recognised by isResyncRequired', async () => {
    const { graph } = client(() => json({ error: { code: 'resyncRequired', message: 'stale' } }, 410));
    const err = await (async () => {
      for await (const _ of graph.delta(`${BASE}/v1.0/users/delta?$deltatoken=old`)) void _;
    })().catch((e: unknown) => e);
    expect(isResyncRequired(err)).toBe(true);
    expect(isResyncRequired(new GraphError({ status: 404, code: 'Request_ResourceNotFound', message: 'x' }))).toBe(false);
  });
});

describe('directory helpers', () => {
  it('finds a user by UPN or mail with escaped quotes and the expected $select', async () => {
    const { graph, requests } = client(() => json({ value: [{ id: 'u1', userPrincipalName: "o'brien@contoso.com" }] }));
    const user = await graph.findUser("o'brien@contoso.com");
    expect(user?.id).toBe('u1');
    const q = new URL(requests[0].url).searchParams;
    expect(q.get('$filter')).toBe("userPrincipalName eq 'o''brien@contoso.com' or mail eq 'o''brien@contoso.com'");
    expect(q.get('$select')).toBe('id,displayName,mail,userPrincipalName,accountEnabled');
    expect(odataString("a'b")).toBe("'a''b'");
  });

  it('returns null when nothing matches', async () => {
    const { graph } = client(() => json({ value: [] }));
    expect(await graph.findUser('nobody@contoso.com')).toBeNull();
    expect(await graph.findGroupByMail('nobody@contoso.com')).toBeNull();
  });

  it('detects a Global Administrator by directoryRole template id, across pages', async () => {
    const groupsOnly = { value: [{ '@odata.type': '#microsoft.graph.group', id: 'g1', roleTemplateId: '62e90394-69f5-4237-9190-012177145e10' }] };
    const { graph } = client((req) =>
      req.url.includes('skiptoken')
        ? json({ value: [{ '@odata.type': '#microsoft.graph.directoryRole', id: 'r1', roleTemplateId: '62e90394-69f5-4237-9190-012177145e10' }] })
        : json({ ...groupsOnly, '@odata.nextLink': `${BASE}/v1.0/me/memberOf?$skiptoken=2` }),
    );
    expect(await graph.isGlobalAdministrator()).toBe(true);
    const other = client(() => json({ value: [{ '@odata.type': '#microsoft.graph.directoryRole', id: 'r2', roleTemplateId: 'f28a1f50-f6e7-4571-818b-6a12f2af6b6c' }, ...groupsOnly.value] }));
    expect(await other.graph.isGlobalAdministrator()).toBe(false);
  });

  it('summarises the organization with its default and initial domains', async () => {
    const { graph } = client(() =>
      json({
        value: [
          {
            id: 'tid',
            displayName: 'Contoso Ltd',
            verifiedDomains: [
              { name: 'contoso.onmicrosoft.com', isDefault: false, isInitial: true },
              { name: 'contoso.com', isDefault: true, isInitial: false },
            ],
          },
        ],
      }),
    );
    expect(await graph.organization()).toEqual({ id: 'tid', displayName: 'Contoso Ltd', defaultDomain: 'contoso.com', initialDomain: 'contoso.onmicrosoft.com' });
  });

  it('searches with $search on displayName and mail, eventual consistency, and a validated cursor', async () => {
    const { graph, requests } = client(() => json({ value: [{ id: 'g1' }], '@odata.nextLink': `${BASE}/v1.0/groups?$skiptoken=n` }));
    const first = await graph.searchDirectory('group', 'Sa"les', { top: 10 });
    const q = new URL(requests[0].url).searchParams;
    expect(new URL(requests[0].url).pathname).toBe('/global/graph/v1.0/groups');
    expect(q.get('$search')).toBe('"displayName:Sa\\"les" OR "mail:Sa\\"les"');
    expect(q.get('$top')).toBe('10');
    expect(q.get('$select')).toContain('mail');
    expect(requests[0].headers.consistencylevel).toBe('eventual');
    expect(first.nextCursor).toBe(`${BASE}/v1.0/groups?$skiptoken=n`);
    await graph.searchDirectory('group', 'Sales', { cursor: first.nextCursor });
    expect(requests[1].url).toBe(first.nextCursor);
    expect(requests[1].headers.consistencylevel).toBe('eventual');
    await expect(graph.searchDirectory('group', 'x', { cursor: 'https://attacker.example/v1.0/groups?$skiptoken=n' })).rejects.toMatchObject({ code: 'untrustedLink' });
    await expect(graph.searchDirectory('user', 'x', { cursor: first.nextCursor })).rejects.toMatchObject({ code: 'untrustedLink' });
    expect(requests).toHaveLength(2);
  });

  it('checks member groups in batches of 20', async () => {
    const { graph, requests } = client((req) => {
      const ids = (JSON.parse(req.body!) as { groupIds: string[] }).groupIds;
      return json({ value: ids.filter((id) => Number(id.slice(1)) % 10 === 0) });
    });
    const groupIds = Array.from({ length: 45 }, (_, i) => `g${i}`);
    expect(await graph.checkMemberGroups('user 1', groupIds)).toEqual(['g0', 'g10', 'g20', 'g30', 'g40']);
    expect(requests.map((r) => (JSON.parse(r.body!) as { groupIds: string[] }).groupIds.length)).toEqual([20, 20, 5]);
    expect(requests.every((r) => r.method === 'POST' && r.url === `${BASE}/v1.0/users/user%201/checkMemberGroups`)).toBe(true);
  });

  it('pages transitive members selecting only ids', async () => {
    const { graph, requests } = client(() => json({ value: [{ '@odata.type': '#microsoft.graph.user', id: 'u1' }] }));
    const pages = [];
    for await (const page of graph.transitiveMembers('g1')) pages.push(page);
    expect(pages).toEqual([[{ '@odata.type': '#microsoft.graph.user', id: 'u1' }]]);
    expect(requests[0].url).toBe(`${BASE}/v1.0/groups/g1/transitiveMembers?$select=id`);
  });
});
