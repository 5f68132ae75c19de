import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { checkUrlShape, classifyAddress, resolveWebhookHost, type Resolver } from '../../src/server/webhooks/address-policy';
import { postWebhook, webhookSignature } from '../../src/server/webhooks/delivery';

const live = { sandbox: false };
const sandbox = { sandbox: true };
const resolvesTo =
  (...addresses: string[]): Resolver =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

describe('webhook addresses (SSRF)', () => {
  it.each([
    ['0.0.0.0', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.254', 'cgnat'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fe80::1%eth0', 'link-local'],
    ['ff02::1', 'multicast'],
    // IPv4-mapped, IPv4-compatible, NAT64 and 6to4 forms reach the IPv4 address inside them.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['0:0:0:0:0:ffff:a9fe:a9fe', 'link-local'],
    ['::ffff:0.0.0.0', 'unspecified'],
    ['::127.0.0.1', 'loopback'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['2002:c0a8:0101::1', 'private'],
    ['not-an-address', 'reserved'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  it.each(['8.8.8.8', '172.32.0.1', '100.128.0.1', '192.169.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808'])('%s is public', (address) => {
    expect(classifyAddress(address)).toBeNull();
  });

  it('live mode refuses http, credentials in the URL, and loopback', async () => {
    expect(() => checkUrlShape('http://hooks.example.com/x', live)).toThrow(/https/);
    expect(() => checkUrlShape('https://user:pw@hooks.example.com/x', live)).toThrow(/user name or password/);
    expect(() => checkUrlShape('ftp://hooks.example.com/x', sandbox)).toThrow(/https/);
    await expect(resolveWebhookHost(new URL('https://127.0.0.1/x'), live)).rejects.toThrow(/loopback/);
    await expect(resolveWebhookHost(new URL('https://[::1]/x'), live)).rejects.toThrow(/loopback/);
    await expect(resolveWebhookHost(new URL('https://[::ffff:127.0.0.1]/x'), live)).rejects.toThrow(/loopback/);
    await expect(resolveWebhookHost(new URL('https://hooks.example.com/x'), live, resolvesTo('127.0.0.1'))).rejects.toThrow(/loopback/);
    await expect(resolveWebhookHost(new URL('https://hooks.example.com/x'), live, resolvesTo('93.184.216.34'))).resolves.toEqual({ address: '93.184.216.34', family: 4 });
    await expect(resolveWebhookHost(new URL('https://hooks.example.com/x'), live, resolvesTo('2606:4700::1111', '93.184.216.34'))).resolves.toEqual({ address: '93.184.216.34', family: 4 });
  });

  it('checks every address a host resolves to, not only the first', async () => {
    await expect(resolveWebhookHost(new URL('https://hooks.example.com/x'), live, resolvesTo('93.184.216.34', '10.0.0.5'))).rejects.toThrow(/private address \(10\.0\.0\.5\)/);
    await expect(resolveWebhookHost(new URL('https://hooks.example.com/x'), live, resolvesTo('2606:4700::1111', 'fd00::1'))).rejects.toThrow(/unique-local/);
    await expect(resolveWebhookHost(new URL('https://hooks.example.com/x'), live, async () => Promise.reject(new Error('ENOTFOUND')))).rejects.toThrow(/could not be resolved/);
  });

  it('sandbox mode allows http and loopback, yet still refuses private addresses and http elsewhere', async () => {
    expect(checkUrlShape('http://127.0.0.1:8080/x', sandbox).protocol).toBe('http:');
    await expect(resolveWebhookHost(new URL('http://127.0.0.1:8080/x'), sandbox)).resolves.toEqual({ address: '127.0.0.1', family: 4 });
    await expect(resolveWebhookHost(new URL('http://hooks.test/x'), sandbox, resolvesTo('192.168.0.10'))).rejects.toThrow(/private/);
    await expect(resolveWebhookHost(new URL('http://hooks.test/x'), sandbox, resolvesTo('93.184.216.34'))).rejects.toThrow(/Plain http/);
    await expect(resolveWebhookHost(new URL('https://hooks.test/x'), sandbox, resolvesTo('93.184.216.34'))).resolves.toMatchObject({ address: '93.184.216.34' });
  });
});

describe('webhook delivery', () => {
  it('connects to the checked address, not to what a second lookup answers (DNS rebinding)', async () => {
    const seen: { host?: string; signature?: string; body: string }[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ host: req.headers.host, signature: req.headers['tenantgate-signature'] as string, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      // The name resolves once (checked: loopback, allowed in sandbox mode); a second lookup would answer a
      // private address. `rebind.test` exists in no DNS, so reaching the receiver proves the pinned address was used.
      let lookups = 0;
      const rebinding: Resolver = async () => [{ address: lookups++ === 0 ? '127.0.0.1' : '10.0.0.1', family: 4 }];
      const at = new Date('2026-12-01T10:00:00Z');
      const result = await postWebhook({ url: `http://rebind.test:${port}/hook`, secret: 'whsec_s' }, '{"a":1}', { policy: sandbox, resolve: rebinding, now: () => at });
      expect(result).toEqual({ statusCode: 204, error: null });
      expect(lookups).toBe(1);
      expect(seen).toEqual([{ host: `rebind.test:${port}`, signature: webhookSignature('whsec_s', '{"a":1}', at.getTime() / 1000), body: '{"a":1}' }]);
      // At the next delivery the name answers a private address: refused before connecting.
      const second = await postWebhook({ url: `http://rebind.test:${port}/hook`, secret: 'whsec_s' }, '{"a":1}', { policy: sandbox, resolve: rebinding });
      expect(second).toEqual({ statusCode: null, error: expect.stringMatching(/private address \(10\.0\.0\.1\)/) });
      expect(seen).toHaveLength(1);
    } finally {
      server.close();
    }
  });

  it('gives up on a receiver that does not answer within 5 seconds', async () => {
    const held: http.ServerResponse[] = [];
    const server = http.createServer((_req, res) => void held.push(res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const started = Date.now();
      const result = await postWebhook({ url: `http://127.0.0.1:${port}/slow`, secret: 's' }, '{}', { policy: sandbox });
      expect(result).toEqual({ statusCode: null, error: 'No answer within 5 seconds.' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(4_900);
      expect(Date.now() - started).toBeLessThan(7_000);
    } finally {
      for (const res of held) res.destroy();
      server.close();
    }
  }, 10_000);

  it('signs "t.body" with HMAC-SHA256 of the secret', () => {
    // Known answer: printf '1700000000.{}' | openssl dgst -sha256 -hmac secret
    expect(webhookSignature('secret', '{}', 1700000000)).toBe('t=1700000000,v1=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163');
  });
});
