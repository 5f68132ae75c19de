import { randomBytes } from 'node:crypto';
import cookie from '@fastify/cookie';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { browserBinding, installBrowserBinding, readBrowserBinding } from '../../src/server/auth-flows/binding';

/** Issue 8, item 9: the `tg_oauth` binding cookie is minted by the server only; `__Host-` behind https. */
async function bindingApp(secure: boolean) {
  const app = Fastify();
  await app.register(cookie);
  installBrowserBinding(app, { key: randomBytes(32), secure });
  app.get('/start', async (request, reply) => ({ binding: browserBinding(request, reply) }));
  app.get('/read', async (request) => ({ binding: readBrowserBinding(request) ?? null }));
  await app.ready();
  return app;
}

const planted = 'A'.repeat(43);

describe('browser binding cookie', () => {
  it('replaces a value the browser made up instead of adopting it', async () => {
    const app = await bindingApp(false);
    const res = await app.inject({ url: '/start', cookies: { tg_oauth: planted } });
    const set = res.cookies.find((c) => c.name === 'tg_oauth')!;
    expect(set.value).not.toBe(planted);
    expect(res.json().binding).toBe(set.value);
    expect((await app.inject({ url: '/read', cookies: { tg_oauth: planted } })).json().binding).toBeNull();
    expect((await app.inject({ url: '/read', cookies: { tg_oauth: `${planted}.${'B'.repeat(43)}` } })).json().binding).toBeNull();
    await app.close();
  });

  it('keeps a value it minted, so several tabs share it', async () => {
    const app = await bindingApp(false);
    const first = (await app.inject({ url: '/start' })).cookies.find((c) => c.name === 'tg_oauth')!.value;
    const again = await app.inject({ url: '/start', cookies: { tg_oauth: first } });
    expect(again.json().binding).toBe(first);
    expect((await app.inject({ url: '/read', cookies: { tg_oauth: first } })).json().binding).toBe(first);
    await app.close();
  });

  it('uses the __Host- prefix behind https: Secure, Path=/, no Domain', async () => {
    const app = await bindingApp(true);
    const res = await app.inject({ url: '/start' });
    const set = res.cookies.find((c) => c.name === '__Host-tg_oauth')!;
    expect(set).toMatchObject({ secure: true, path: '/', httpOnly: true, sameSite: 'Lax' });
    expect(set.domain).toBeUndefined();
    expect(res.cookies.find((c) => c.name === 'tg_oauth')).toBeUndefined();
    // The plain name is not read behind https: a sibling host could have set it.
    expect((await app.inject({ url: '/read', cookies: { tg_oauth: set.value } })).json().binding).toBeNull();
    expect((await app.inject({ url: '/read', cookies: { '__Host-tg_oauth': set.value } })).json().binding).toBe(set.value);
    await app.close();
  });

  it('sets the cookie under the name it reads: the https flag comes from the installed settings, never from a caller', async () => {
    const app = Fastify();
    await app.register(cookie);
    installBrowserBinding(app, { key: randomBytes(32), secure: true });
    // A caller that still passes its own flag (the old third parameter) cannot make the cookie unreadable.
    // @ts-expect-error browserBinding takes no https flag
    app.get('/start', async (request, reply) => ({ binding: browserBinding(request, reply, false) }));
    app.get('/read', async (request) => ({ binding: readBrowserBinding(request) ?? null }));
    const res = await app.inject({ url: '/start' });
    expect(res.cookies.map((c) => c.name)).toEqual(['__Host-tg_oauth']);
    expect((await app.inject({ url: '/read', cookies: { '__Host-tg_oauth': res.json().binding } })).json().binding).toBe(res.json().binding);
    await app.close();
  });
});
