import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFormPost } from '../../../src/server/microsoft/form-post';

/** The token endpoint's transport (node:http with kept-alive connections). */
describe('form post', () => {
  let server: http.Server;
  let base: string;
  const seen: { method?: string; type?: string; body: string; socket: number }[] = [];
  const sockets = new Map<unknown, number>();
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (!sockets.has(req.socket)) sockets.set(req.socket, sockets.size + 1);
        seen.push({ method: req.method, type: req.headers['content-type'], body, socket: sockets.get(req.socket)! });
        if (req.url === '/slow') return void setTimeout(() => res.end('{}'), 2_000);
        if (req.url === '/huge') return void res.end('x'.repeat(2 * 1024 * 1024));
        if (req.url === '/busy') return void res.writeHead(429, { 'retry-after': '7', 'content-type': 'application/json' }).end('{"error":"temporarily_unavailable"}');
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'a', echo: body }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('posts the form and answers the status, headers and text; one connection serves request after request', async () => {
    const post = createFormPost();
    const first = await post(`${base}/token`, 'grant_type=refresh_token&refresh_token=r1', 5_000);
    const second = await post(`${base}/token`, 'grant_type=refresh_token&refresh_token=r2', 5_000);
    expect(first.status).toBe(200);
    expect(first.header('Content-Type')).toBe('application/json');
    expect(JSON.parse(first.text)).toEqual({ access_token: 'a', echo: 'grant_type=refresh_token&refresh_token=r1' });
    expect(JSON.parse(second.text).echo).toContain('r2');
    expect(seen.slice(-2).map((r) => [r.method, r.type])).toEqual([
      ['POST', 'application/x-www-form-urlencoded'],
      ['POST', 'application/x-www-form-urlencoded'],
    ]);
    expect(seen.at(-1)!.socket).toBe(seen.at(-2)!.socket);
  });

  it('answers a refusal with its Retry-After, a late answer as a timeout, and refuses an answer too large to be a token', async () => {
    const post = createFormPost();
    const busy = await post(`${base}/busy`, 'a=b', 5_000);
    expect([busy.status, busy.header('retry-after')]).toEqual([429, '7']);
    await expect(post(`${base}/slow`, 'a=b', 100)).rejects.toMatchObject({ name: 'TimeoutError' });
    await expect(post(`${base}/huge`, 'a=b', 5_000)).rejects.toThrow(/too large/);
    await expect(post('ftp://127.0.0.1/x', 'a=b', 5_000)).rejects.toThrow(/Unsupported protocol/);
  });
});
