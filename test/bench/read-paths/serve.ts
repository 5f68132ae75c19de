import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { signUpPartner } from '../../support/api-client';
import { startTestPortal } from '../../support/portal';

/**
 * A server for the read-path benchmark and the profile script, in its own process so the load generator
 * does not share its event loop:
 *   serve.ts portal <sqlite|postgres>   a seeded portal (1,000 local users in one partner, 200 audit
 *                                        events, 20 app profiles), signed in as the partner's owner
 *   serve.ts bare <answers.json>        a bare Fastify answering each path with the given JSON from memory
 * It sends `{ url, cookie }` to its parent over IPC once it listens, records a CPU profile between the
 * parent's `{ profile: 'start' }` and `{ profile: 'stop', file }` messages (answering "profiled"), and exits
 * on "stop".
 */
export interface ServeReady {
  url: string;
  cookie?: string;
}

const [mode, arg] = process.argv.slice(2);

/** The portal logs at its default level ("info"), as deployed; the lines are discarded. */
const discard = new Writable({ write: (_chunk, _encoding, done) => done() });

async function servePortal(engine: 'sqlite' | 'postgres'): Promise<{ ready: ServeReady; close(): Promise<void> }> {
  const portal = await startTestPortal(engine, { LOG_LEVEL: 'info' }, { logStream: discard });
  const owner = await signUpPartner(portal.url, 'Bench Partner');
  const db = portal.services.db;
  const now = Date.now();
  const stamp = (i: number) => new Date(now - i * 1000).toISOString();
  for (let start = 0; start < 1000; start += 250) {
    const rows = Array.from({ length: 250 }, (_, k) => {
      const i = start + k;
      const email = `user${String(i).padStart(4, '0')}@bench-partner.test`;
      return {
        id: randomUUID(),
        partner_id: owner.partnerId,
        email,
        email_key: email,
        display_name: `Bench User ${i}`,
        password_hash: null,
        role: i % 10 === 0 ? ('administrator' as const) : ('member' as const),
        is_owner: 0,
        sign_in_type: 'local' as const,
        kind: 'user' as const,
        status: 'active' as const,
        app_profile_id: null,
        created_at: stamp(i),
        updated_at: stamp(i),
      };
    });
    await db.insertInto('users').values(rows).execute();
  }
  await db
    .insertInto('audit_events')
    .values(
      Array.from({ length: 200 }, (_, i) => ({
        id: randomUUID(),
        partner_id: owner.partnerId,
        at: stamp(i),
        actor_user_id: owner.userId,
        actor_email: owner.email,
        action: 'user.add',
        target_type: 'user',
        target_id: randomUUID(),
        target_name: `user${i}@bench-partner.test`,
        outcome: 'success' as const,
        client_address: '127.0.0.1',
        details: JSON.stringify({ role: 'member', signInType: 'local' }),
      })),
    )
    .execute();
  await db
    .insertInto('app_profiles')
    .values(
      Array.from({ length: 20 }, (_, i) => ({
        id: randomUUID(),
        partner_id: owner.partnerId,
        name: `Tenant ${i}`,
        name_key: `tenant ${i}`,
        cloud: 'global' as const,
        graph_host: 'graph.microsoft.com',
        tenant_id: randomUUID(),
        tenant_name: `Tenant ${i} Ltd`,
        tenant_domain: `tenant${i}.example`,
        authorized_by_upn: `admin@tenant${i}.example`,
        authorized_by_oid: randomUUID(),
        granted_scopes: JSON.stringify(['User.Read.All', 'Group.Read.All', 'offline_access']),
        status: 'active' as const,
        status_code: null,
        status_message: null,
        status_fix: null,
        refresh_token_sealed: 'v1.bench.not-a-token',
        refresh_token_key_id: 'bench',
        authorized_at: stamp(i),
        token_used_at: stamp(i),
        last_checked_at: stamp(i),
        last_check_error_at: null,
        last_check_error_message: null,
        created_at: stamp(i),
        updated_at: stamp(i),
      })),
    )
    .execute();
  return { ready: { url: portal.url, cookie: owner.client.cookie }, close: () => portal.close() };
}

async function serveBare(answersFile: string): Promise<{ ready: ServeReady; close(): Promise<void> }> {
  const answers = JSON.parse(readFileSync(answersFile, 'utf8')) as Record<string, string>;
  const app = Fastify();
  // The very same bytes the portal answered, per path (query string included), straight from memory.
  app.get('/*', async (request, reply) => {
    const body = answers[request.url];
    if (body === undefined) return reply.code(404).send();
    return reply.type('application/json; charset=utf-8').send(body);
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { ready: { url }, close: () => app.close() };
}

const server = mode === 'portal' ? await servePortal(arg === 'postgres' ? 'postgres' : 'sqlite') : await serveBare(arg);
const inspector = new Session();
process.on('message', (message: unknown) => {
  if (message === 'stop') void server.close().finally(() => process.exit(0));
  const profile = message as { profile?: 'start' | 'stop'; file?: string };
  if (profile.profile === 'start') {
    inspector.connect();
    void inspector.post('Profiler.enable').then(() => inspector.post('Profiler.start')).then(() => process.send!('profiling'));
  }
  if (profile.profile === 'stop' && profile.file) {
    void inspector.post('Profiler.stop').then(({ profile: recorded }) => {
      writeFileSync(profile.file!, JSON.stringify(recorded));
      process.send!('profiled');
    });
  }
});
process.on('disconnect', () => void server.close().finally(() => process.exit(0)));
process.send!(server.ready);
