import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/server/config';

/** Sandbox mode must not start by accident (issue 8, item 3): what the settings allow and refuse. */
const LIVE_APP = { MICROSOFT_CLIENT_ID: '11111111-2222-4333-8444-555555555555', MICROSOFT_CLIENT_SECRET: 's3cret', TENANTGATE_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}` };

describe('sandbox mode settings', () => {
  it('starts in sandbox mode out of the box (npm install && npm start), on loopback, saying why', () => {
    const config = loadConfig({});
    expect(config.sandboxMode).toBe(true);
    expect(config.sandbox.host).toBe('127.0.0.1');
    expect(config.sandboxReason).toMatch(/no Microsoft app is configured/);
    expect(config.sandbox.stateDir).toMatch(/data[/\\]sandbox$/);
  });

  it.each([
    ['PUBLIC_URL is https', { PUBLIC_URL: 'https://portal.example.com' }],
    ['NODE_ENV is production', { NODE_ENV: 'production' }],
  ])('refuses sandbox mode when %s, naming the variables and the way out', (_why, env) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(/MICROSOFT_CLIENT_ID.*MICROSOFT_CLIENT_SECRET.*TENANTGATE_SANDBOX=on/);
  });

  it('runs the sandbox there on purpose with TENANTGATE_SANDBOX=on', () => {
    const config = loadConfig({ PUBLIC_URL: 'https://demo.example.com', NODE_ENV: 'production', TENANTGATE_SANDBOX: 'on' });
    expect(config.sandboxMode).toBe(true);
    expect(config.sandboxReason).toBe('TENANTGATE_SANDBOX=on');
  });

  it('TENANTGATE_SANDBOX=off forces live mode: a missing Microsoft app is a start-up error naming the variables', () => {
    expect(() => loadConfig({ TENANTGATE_SANDBOX: 'off' })).toThrow(/MICROSOFT_CLIENT_ID.*TENANTGATE_SANDBOX=off.*MICROSOFT_CLIENT_SECRET.*TENANTGATE_ENCRYPTION_KEYS/);
    const live = loadConfig({ TENANTGATE_SANDBOX: 'off', NODE_ENV: 'production', PUBLIC_URL: 'https://portal.example.com', ...LIVE_APP });
    expect(live.sandboxMode).toBe(false);
  });

  it('refuses TENANTGATE_SANDBOX=on beside a configured Microsoft app (which one was meant?)', () => {
    expect(() => loadConfig({ TENANTGATE_SANDBOX: 'on', ...LIVE_APP })).toThrow(/TENANTGATE_SANDBOX/);
  });

  it('keeps the sandbox on loopback unless another host is allowed explicitly', () => {
    expect(() => loadConfig({ TENANTGATE_SANDBOX_HOST: '0.0.0.0' })).toThrow(/TENANTGATE_SANDBOX_HOST.*TENANTGATE_SANDBOX_ALLOW_REMOTE=true/);
    expect(() => loadConfig({ TENANTGATE_SANDBOX_HOST: '192.168.1.20' })).toThrow(ConfigError);
    for (const host of ['127.0.0.1', '::1', 'localhost', '127.0.0.2']) expect(loadConfig({ TENANTGATE_SANDBOX_HOST: host }).sandbox.host).toBe(host);
    expect(loadConfig({ TENANTGATE_SANDBOX_HOST: '0.0.0.0', TENANTGATE_SANDBOX_ALLOW_REMOTE: 'true' }).sandbox).toMatchObject({ host: '0.0.0.0', allowRemote: true });
  });

  it('keeps the sandbox state where TENANTGATE_SANDBOX_STATE says, else in the data folder', () => {
    expect(loadConfig({ TENANTGATE_DATA_DIR: '/srv/tg' }).sandbox.stateDir).toBe('/srv/tg/sandbox');
    expect(loadConfig({ TENANTGATE_SANDBOX_STATE: '/var/lib/sandbox' }).sandbox.stateDir).toBe('/var/lib/sandbox');
    expect(loadConfig({ TENANTGATE_SANDBOX_STATE: 'memory' }).sandbox.stateDir).toBeUndefined();
  });
});
