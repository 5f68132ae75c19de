import { describe, expect, it } from 'vitest';
import { ConfigError, fastifyTrustProxy, loadConfig } from '../../src/server/config';
import { CLOUD_INFO, CLOUDS } from '../../src/server/microsoft/clouds';

describe('configuration', () => {
  it('runs in sandbox mode with defaults when nothing is set', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.publicUrl).toBe('http://localhost:3000');
    expect(c.sandboxMode).toBe(true);
    expect(c.dataDir).toBe('./data');
    expect(c.sessionIdleTimeoutMs).toBe(8 * 3600_000);
    expect(c.encryptionKeys).toBeUndefined();
    expect(c.secureCookies).toBe(false);
  });

  it('stops with one line naming the variable and what is expected', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/^Invalid setting PORT: /);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/Invalid setting DATABASE_URL: .*postgres/);
    expect(() => loadConfig({ TENANTGATE_DATA_CENTER: 'mars' })).toThrow(/Invalid setting TENANTGATE_DATA_CENTER: expected one of global, us-gov-virginia/);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
  });

  it('requires a secret with a client id, and encryption keys when Microsoft is configured', () => {
    expect(() => loadConfig({ MICROSOFT_CLIENT_ID: 'abc' })).toThrow(/Invalid setting MICROSOFT_CLIENT_SECRET/);
    expect(() => loadConfig({ MICROSOFT_CLIENT_ID: 'abc', MICROSOFT_CLIENT_SECRET: 's' })).toThrow(/Invalid setting TENANTGATE_ENCRYPTION_KEYS/);
    const live = loadConfig({ MICROSOFT_CLIENT_ID: 'abc', MICROSOFT_CLIENT_SECRET: 's', TENANTGATE_ENCRYPTION_KEYS: 'k1:' + Buffer.alloc(32).toString('base64') });
    expect(live.sandboxMode).toBe(false);
    expect(live.microsoft.global).toEqual({ clientId: 'abc', clientSecret: 's' });
  });

  it.each(CLOUDS)('takes the %s app registration from the variables its CLOUD_INFO entry names', (cloud) => {
    const { clientId, clientSecret } = CLOUD_INFO[cloud].env;
    const keys = { TENANTGATE_ENCRYPTION_KEYS: 'k1:' + Buffer.alloc(32).toString('base64') };
    expect(() => loadConfig({ [clientId]: 'abc', ...keys })).toThrow(new RegExp(`^Invalid setting ${clientSecret}: is required when ${clientId} is set`));
    expect(() => loadConfig({ [clientSecret]: 's', ...keys })).toThrow(new RegExp(`^Invalid setting ${clientId}: is required when ${clientSecret} is set`));
    expect(() => loadConfig({ [clientId]: 'abc', [clientSecret]: 's' })).toThrow(/Invalid setting TENANTGATE_ENCRYPTION_KEYS/);
    expect(() => loadConfig({ [clientId]: 'abc', [clientSecret]: 's', ...keys, TENANTGATE_SANDBOX: 'on' })).toThrow(new RegExp(`TENANTGATE_SANDBOX: is on, but a Microsoft app is configured \\(.*${clientId}`));
    const live = loadConfig({ [clientId]: 'abc', [clientSecret]: 's', ...keys });
    expect(live.sandboxMode).toBe(false);
    expect(live.microsoft[cloud]).toEqual({ clientId: 'abc', clientSecret: 's' });
  });

  it('uses secure cookies behind an https public URL', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://portal.example.com/', TENANTGATE_SANDBOX: 'on' }).secureCookies).toBe(true);
    expect(loadConfig({ PUBLIC_URL: 'https://portal.example.com/', TENANTGATE_SANDBOX: 'on' }).publicUrl).toBe('https://portal.example.com');
  });
});

describe('TRUST_PROXY (issue 8, item 4)', () => {
  const trust = (value: string) => loadConfig({ TRUST_PROXY: value }).trustProxy;

  it('takes false, true (one proxy), a hop count, or proxy addresses and CIDRs', () => {
    expect(trust('false')).toBe(false);
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(trust('true')).toBe(1);
    expect(trust('2')).toBe(2);
    expect(trust('10.0.0.1, 10.1.0.0/16,fd00::/8')).toEqual(['10.0.0.1', '10.1.0.0/16', 'fd00::/8']);
  });

  it('refuses anything else with the variable named', () => {
    for (const bad of ['maybe', '10.0.0.0/33', '10.0.0.300', 'proxy.example']) {
      expect(() => trust(bad), bad).toThrow(/^Invalid setting TRUST_PROXY: /);
    }
  });

  it('never believes the left-most X-Forwarded-For entry, which the client writes', () => {
    const believe = fastifyTrustProxy(trust('true'));
    expect(typeof believe).toBe('function');
    const trusts = believe as (address: string, hop: number) => boolean;
    // hop 0 is the proxy that connected; hop 1 is what it appended; hop 2 is the client's own claim.
    expect(trusts('10.0.0.2', 0)).toBe(true);
    expect(trusts('198.51.100.44', 1)).toBe(false);
  });
});
