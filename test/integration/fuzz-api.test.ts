import * as fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpPartner } from '../support/api-client';
import { insertLocalUser } from '../support/db-fixtures';
import { testEngines, type TestEngine } from '../support/engines';
import { AdminBrowser, CONTOSO, NORTHWIND, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';
import { changedTables, listTables, snapshotTables, type TableSnapshot } from '../support/table-snapshot';

/**
 * Bad input for every route of the OpenAPI document, as anonymous, Member and Administrator: wrong
 * types, missing and extra fields, huge, unicode and control-character strings, foreign and malformed
 * ids and cursors, wrong content types. Every answer is 2xx/3xx or a 4xx the document lists for the
 * route, in the error shape; never 5xx. A refused (4xx) request changes no row of any table.
 *
 * Replay a failure with FUZZ_SEED=<seed printed on failure>; FUZZ_RUNS sets the number of cases.
 */
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const RUNS: Record<TestEngine, number> = { sqlite: Number(process.env.FUZZ_RUNS ?? 5000), postgres: Number(process.env.FUZZ_RUNS ?? 1000) };

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
}
interface Operation {
  parameters?: { in: 'path' | 'query'; name: string; schema?: JsonSchema }[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, unknown>;
}
interface Route {
  method: string;
  path: string;
  op: Operation;
}
type Role = 'anonymous' | 'member' | 'administrator';
type Body = { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'raw'; contentType: string | null; text: string };
interface FuzzCase {
  /** "METHOD /path" of the route, so a printed counterexample stays short. */
  route: string;
  role: Role;
  csrf: 'valid' | 'missing' | 'wrong';
  pathValues: string[];
  query: string;
  body: Body;
}

/** Strings a careless handler chokes on. */
const NASTY = [
  '', ' ', '\u0000', '\u0007\b\t\n\r', '\u202egnp.exe', '\uFEFF', 'e\u0301', '𝕏😀👩‍👩‍👧', "' OR 1=1 --", '"; drop table users; --', '%00', '%', '\\', '../../etc/passwd',
  '__proto__', 'constructor', 'toString', 'null', 'undefined', 'NaN', '-1', '0', '1e999', '9'.repeat(40), '{}', '[]', 'true', '<script>alert(1)</script>', '$where', '${jndi:x}',
  'a@b', 'x@y.z', '@@', 'admin@contoso.com', '0000-0000', '00000000-0000-0000-0000-000000000000',
];
const nastyStringUpTo = (huge: number) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
    { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.integer({ min: 200, max: huge }).chain((n) => fc.constantFrom('x', 'é', '😀', '\u0000').map((c) => c.repeat(n))) },
  );
/** Bodies up to past the 256 KiB body limit. */
const nastyString = nastyStringUpTo(300_000);
/**
 * In a URL: up to 2,000 emoji (24 KiB encoded), past the 16 KiB Node's HTTP parser accepts (431).
 */
const nastyUrlString = nastyStringUpTo(2_000);

function anyJson(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom(null, true, 0, -1, 1.5, 2 ** 53, [], {}, [null], { __proto__: { admin: true } }, JSON.parse('{"__proto__":{"polluted":1}}')),
    nastyString,
  );
}

describe.each(testEngines())('bad input on every route (%s)', (engine) => {
  let portal: TestPortal;
  let routes: Route[];
  let tables: string[];
  const ids = { own: [] as string[], foreign: [] as string[], cursors: [] as string[] };
  const sessions: Record<Exclude<Role, 'anonymous'>, { userId: string; token: string; csrfToken: string }> = {} as never;
  let partnerId: string;

  beforeAll(async () => {
    portal = await startTestPortal(engine);
    const doc = (await (await fetch(`${portal.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, Operation>> };
    routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, op })));
    tables = await listTables(portal.services.db, engine);

    // Partner A: a connected Contoso profile, a Microsoft 365 user and group, a local user, a Member.
    const owner = await signUpPartner(portal.url, 'Fuzz Partner');
    partnerId = owner.partnerId;
    const profile = await new AdminBrowser(owner.client).createProfile('Contoso', { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    const profileId = profile.profileId!;
    await owner.client.post('/api/users', { signInType: 'microsoft365', emails: [CONTOSO.user, 'sales@contoso.com'], appProfileId: profileId, role: 'member' });
    await owner.client.post('/api/users', { signInType: 'local', emails: ['fuzz-local@acme-partner.test'], role: 'member' });
    const memberId = await insertLocalUser(portal.services.db, partnerId, { email: 'fuzz-member@acme-partner.test', password: 'silver-forest-river-9', role: 'member' });
    const users = (await owner.client.get('/api/users?limit=1')).body as { items: { id: string }[]; nextCursor?: string };
    const all = (await owner.client.get('/api/users')).body as { items: { id: string }[] };
    ids.own.push(profileId, memberId, owner.userId, ...all.items.map((u) => u.id));
    for (const path of ['/api/users?limit=1', '/api/audit?limit=1', `/api/app-profiles/${profileId}/directory?type=user`]) {
      const cursor = ((await owner.client.get(path)).body as { nextCursor?: string | null }).nextCursor;
      if (cursor) ids.cursors.push(cursor);
    }
    if (users.nextCursor) ids.cursors.push(users.nextCursor);

    // Partner B: its ids are foreign to A's people.
    const other = await signUpPartner(portal.url, 'Other Partner');
    const otherProfile = await new AdminBrowser(other.client).createProfile('Northwind', { email: NORTHWIND.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    ids.foreign.push(other.userId, otherProfile.profileId!, other.partnerId);

    sessions.administrator = { userId: owner.userId, ...(await mintSession(owner.userId)) };
    sessions.member = { userId: memberId, ...(await mintSession(memberId)) };
  }, 60_000);
  afterAll(async () => {
    await portal?.close();
  });

  /** A session straight from the store: signing in through the API would hash a password each time. */
  async function mintSession(userId: string) {
    const { token, csrfToken } = await portal.services.sessions.create({ partnerId, userId, clientAddress: '127.0.0.1' });
    return { token, csrfToken };
  }

  const idValue = (nasty = nastyString) => fc.oneof(fc.constantFrom(...ids.own), fc.constantFrom(...ids.foreign), fc.uuid(), nasty);
  const cursorValue = (nasty = nastyString) =>
    fc.oneof(
      ids.cursors.length ? fc.constantFrom(...ids.cursors) : fc.constant('bm90LWEtY3Vyc29y'),
      ids.cursors.length ? fc.tuple(fc.constantFrom(...ids.cursors), fc.nat(), fc.string({ minLength: 1, maxLength: 1 })).map(([c, i, ch]) => c.slice(0, i % c.length) + ch + c.slice((i % c.length) + 1)) : fc.constant('x'),
      anyJson().map((v) => Buffer.from(JSON.stringify(v) ?? '').toString('base64url').slice(0, 4000)),
      nasty,
    );

  /** A value that fits the schema most of the time, with the nasty strings mixed in. */
  function fromSchema(schema: JsonSchema, name = '', nasty = nastyString): fc.Arbitrary<unknown> {
    if (schema.enum) return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...schema.enum) }, { weight: 1, arbitrary: nasty });
    switch (schema.type) {
      case 'object': {
        const props = schema.properties ?? {};
        const required = new Set(schema.required ?? []);
        const entries = Object.entries(props).map(([key, sub]) => [key, required.has(key) ? fromSchema(sub, key) : fc.option(fromSchema(sub, key), { nil: undefined })] as const);
        return fc.record(Object.fromEntries(entries)).map((o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)));
      }
      case 'array':
        return fc.array(fromSchema(schema.items ?? {}, name), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 5, 5) });
      case 'integer':
      case 'number':
        return fc.oneof(fc.integer({ min: schema.minimum ?? -5, max: Math.min(schema.maximum ?? 500, 500) }), fc.integer(), fc.double());
      case 'boolean':
        return fc.boolean();
      case 'string':
        if (/ids?$|Id$/.test(name)) return idValue(nasty);
        if (/email/i.test(name)) return fc.oneof(fc.emailAddress(), fc.constantFrom(CONTOSO.user, 'fuzz-member@acme-partner.test'), nasty);
        if (/cursor/i.test(name)) return cursorValue(nasty);
        return fc.oneof(fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 30, 30) }), nasty);
      default:
        return anyJson();
    }
  }

  /** Valid-looking bodies, then each with one thing wrong: a field dropped, a wrong type, an extra field. */
  function bodyFor(route: Route): fc.Arbitrary<Body> {
    const schema = route.op.requestBody?.content['application/json']?.schema;
    const json = (a: fc.Arbitrary<unknown>) => a.map((value): Body => ({ kind: 'json', value }));
    const wrongContent = fc.oneof(
      fc.record({ kind: fc.constant('raw' as const), contentType: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/json; charset=utf-16', 'application/json', 'bogus', null), text: fc.oneof(fc.constantFrom('{', '{"a":', 'a=1&b=2', '<x/>', '\u0000', 'null', '[]', '{"__proto__":1}'), nastyString) }),
    );
    if (!schema) return fc.oneof({ weight: 3, arbitrary: fc.constant<Body>({ kind: 'none' }) }, { weight: 1, arbitrary: json(anyJson()) }, { weight: 1, arbitrary: wrongContent });
    const valid = fromSchema(schema) as fc.Arbitrary<Record<string, unknown>>;
    const keys = Object.keys(schema.properties ?? {});
    const mutated = fc.tuple(valid, fc.constantFrom('drop', 'wrong-type', 'extra'), fc.nat(), anyJson(), nastyString).map(([body, how, i, junk, key]) => {
      const copy: Record<string, unknown> = { ...body };
      const target = keys.length ? keys[i % keys.length] : key;
      if (how === 'drop') delete copy[target];
      else if (how === 'wrong-type') copy[target] = junk;
      else copy[key || 'extra'] = junk;
      return copy;
    });
    return fc.oneof({ weight: 3, arbitrary: json(valid) }, { weight: 4, arbitrary: json(mutated) }, { weight: 1, arbitrary: json(anyJson()) }, { weight: 1, arbitrary: wrongContent }, { weight: 1, arbitrary: fc.constant<Body>({ kind: 'none' }) });
  }

  function queryFor(route: Route): fc.Arbitrary<string> {
    const params = (route.op.parameters ?? []).filter((p) => p.in === 'query');
    const value = (name: string, schema: JsonSchema = {}) =>
      name === 'cursor' ? cursorValue(nastyUrlString) : schema.type === 'integer' ? fc.oneof(fc.integer({ min: -10, max: 1000 }).map(String), nastyUrlString) : fromSchema(schema, name, nastyUrlString).map((v) => (typeof v === 'string' ? v : JSON.stringify(v) ?? ''));
    const pairs = fc.tuple(...params.map((p) => fc.option(value(p.name, p.schema).map((v) => [p.name, v] as [string, string]), { nil: undefined })), fc.option(fc.tuple(nastyUrlString, nastyUrlString), { nil: undefined }), fc.boolean());
    return pairs.map((all) => {
      const dup = all.pop() as boolean;
      const entries = (all as ([string, string] | undefined)[]).filter((e): e is [string, string] => !!e);
      if (dup && entries.length) entries.push(entries[0]);
      const search = new URLSearchParams(entries).toString();
      return search ? `?${search}` : '';
    });
  }

  function caseFor(route: Route): fc.Arbitrary<FuzzCase> {
    const pathNames = [...route.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    // Path segments that the URL parser would resolve away are the router's concern, not the route's.
    const pathValue = fc.oneof(idValue(nastyUrlString), fc.constantFrom(...ids.own)).filter((v) => v !== '' && v !== '.' && v !== '..');
    return fc.record({
      route: fc.constant(`${route.method} ${route.path}`),
      role: fc.constantFrom<Role>('anonymous', 'member', 'administrator'),
      csrf: fc.oneof({ weight: 8, arbitrary: fc.constant('valid' as const) }, { weight: 1, arbitrary: fc.constantFrom('missing' as const, 'wrong' as const) }),
      pathValues: fc.tuple(...pathNames.map(() => pathValue)) as fc.Arbitrary<string[]>,
      query: queryFor(route),
      body: bodyFor(route),
    });
  }

  /**
   * An accepted group add or "download again" goes on downloading members after the answer: wait for it,
   * so its writes are not blamed on the next (refused) request.
   */
  async function groupDownloadsFinished() {
    // The test portal runs no queue worker: the downloads an answer queued run here, as the worker would run them.
    const due = await portal.services.db.selectFrom('jobs').select('id').where('state', '=', 'queued').execute();
    for (const job of due) await portal.services.jobs.worker.runJob(job.id).catch(() => undefined);
    for (let i = 0; i < 100; i++) {
      const running = await portal.services.db.selectFrom('users').select('id').where('sync_total', 'is not', null).executeTakeFirst();
      if (!running) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('a group member download did not finish within 2 s');
  }

  /** Routes that end the session or check a password (a 128 MiB hash) get fewer cases. */
  const EXPENSIVE = /^(POST \/api\/(session|signup|activate|session\/password)|DELETE \/api\/sessions?)$/;

  async function send(c: FuzzCase, route: Route): Promise<{ status: number; body: unknown; text: string; contentType: string }> {
    let path = route.path;
    route.path.match(/\{[^}]+\}/g)?.forEach((param, i) => (path = path.replace(param, encodeURIComponent(c.pathValues[i]))));
    const headers: Record<string, string> = {};
    if (c.role !== 'anonymous') {
      const s = sessions[c.role];
      headers.cookie = `tg_session=${s.token}`;
      if (c.csrf === 'valid') headers['x-csrf-token'] = s.csrfToken;
      if (c.csrf === 'wrong') headers['x-csrf-token'] = 'not-the-token-0123456789';
    }
    let body: string | undefined;
    if (c.body.kind === 'json') {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(c.body.value) ?? 'null';
    } else if (c.body.kind === 'raw') {
      if (c.body.contentType) headers['content-type'] = c.body.contentType;
      body = c.body.text;
    }
    if (route.method === 'GET') body = undefined;
    const res = await fetch(`${portal.url}${path}${c.query}`, { method: route.method, headers, body, redirect: 'manual' });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      // HTML or empty
    }
    return { status: res.status, body: parsed, text, contentType: res.headers.get('content-type') ?? '' };
  }

  it(`answers every bad request with 2xx or a documented 4xx in the error shape, and a refusal changes nothing (${RUNS[engine]} cases, seeded)`, async () => {
    const byRoute = (r: Route) => ({ weight: EXPENSIVE.test(`${r.method} ${r.path}`) ? 1 : 8, arbitrary: caseFor(r) });
    const anyCase = fc.oneof(...routes.map(byRoute));
    const seen = new Map<string, Set<number>>();
    let before: TableSnapshot | null = null;
    const property = fc.asyncProperty(anyCase, async (c) => {
      const key = c.route;
      const route = routes.find((r) => `${r.method} ${r.path}` === key)!;
      // A session-ending route gets a session of its own, so the following cases stay signed in.
      if (c.role !== 'anonymous' && /^DELETE \/api\/sessions?$|^POST \/api\/session\/password$/.test(key)) {
        // (An earlier case may have removed this user: the role then stays signed out, and 401 is a documented answer.)
        const fresh = await mintSession(sessions[c.role].userId).catch(() => null);
        if (fresh) sessions[c.role] = { ...sessions[c.role], ...fresh };
        before = null;
      }
      if (!before) {
        await groupDownloadsFinished();
        before = await snapshotTables(portal.services.db, tables);
      }
      const res = await send(c, route);
      const statuses = seen.get(key) ?? new Set<number>();
      seen.set(key, statuses.add(res.status));
      const where = `${key} as ${c.role}: ${res.status} ${res.text.slice(0, 300)}`;
      expect(res.status, where).toBeLessThan(500);
      if (res.status >= 400) {
        // 431: Node's HTTP parser refuses an address past 16 KiB before any route sees it.
        // The consent-link pages are for a person, not a program: an unknown or closed link is a page saying so.
        const personPage = route.path.startsWith('/consent/') && res.contentType.startsWith('text/html') && (res.status === 404 || res.status === 410);
        if (personPage) expect(res.text, `closed-link page, ${where}`).toMatch(/<!doctype html>/i);
        else {
          if (res.status !== 431) expect(Object.keys(route.op.responses), `undocumented status, ${where}`).toContain(String(res.status));
          expect(res.body, `error shape, ${where}`).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) }, requestId: expect.any(String) });
        }
        const after = await snapshotTables(portal.services.db, tables);
        const changed = changedTables(before, after);
        if (changed.length) throw new Error(`a refused request changed rows, ${where}\n${changed.join('\n')}`);
        before = after;
      } else {
        before = null;
      }
    });
    try {
      await fc.assert(property, { seed: SEED, numRuns: RUNS[engine], endOnFailure: true });
    } catch (error) {
      // fast-check prints the whole counterexample; a 300 KB string is no help in a CI log.
      const cause = (error as { cause?: Error }).cause;
      const text = (s: string) => (s.length > 4000 ? `${s.slice(0, 4000)}… (${s.length} characters)` : s);
      throw new Error(`fuzz-api failed on ${engine}: replay with FUZZ_SEED=${SEED}\n${text(cause?.message ?? '')}\n${text((error as Error).message)}`);
    }
    // Every route was exercised. The expensive ones are drawn 8 times less often, so a short run (PostgreSQL's)
    // is held only to the cheap routes; the long SQLite run reaches every route with near certainty.
    const mustSee = routes.map((r) => `${r.method} ${r.path}`).filter((key) => RUNS[engine] >= 3000 || !EXPENSIVE.test(key));
    expect(mustSee.filter((key) => !seen.has(key))).toEqual([]);
  }, 170_000);
});
