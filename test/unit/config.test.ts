import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/server/config';

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

  it('uses secure cookies behind an https public URL', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://portal.example.com/', TENANTGATE_SANDBOX: 'on' }).secureCookies).toBe(true);
    expect(loadConfig({ PUBLIC_URL: 'https://portal.example.com/', TENANTGATE_SANDBOX: 'on' }).publicUrl).toBe('https://portal.example.com');
  });
});
