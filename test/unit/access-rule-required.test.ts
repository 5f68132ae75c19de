import cookie from '@fastify/cookie';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { installGuards } from '../../src/server/http/guards';
import type { SessionStore } from '../../src/server/partners/session-store';

/** Issue 8, item 11: a route that forgets its access rule stops start-up instead of being public. */
describe('access rule of every route', () => {
  const build = () => {
    const app = Fastify();
    void app.register(cookie);
    installGuards(app, {} as SessionStore, { publicUrl: 'http://localhost:3000', secureCookies: false });
    return app;
  };

  it('refuses to start with a route registered without config.access, naming it', async () => {
    const app = build();
    app.get('/api/forgotten', async () => ({ secret: true }));
    app.get('/api/declared', { config: { access: 'public' } }, async () => ({ ok: true }));
    await expect(app.ready()).rejects.toThrow(/without an access rule.*GET \/api\/forgotten/);
    await app.close();
  });

  it('starts when every route declares one', async () => {
    const app = build();
    app.get('/api/declared', { config: { access: 'public' } }, async () => ({ ok: true }));
    await app.ready();
    expect((await app.inject({ url: '/api/declared' })).statusCode).toBe(200);
    await app.close();
  });
});
