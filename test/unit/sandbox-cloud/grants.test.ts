import { beforeEach, describe, expect, it, vi } from 'vitest';
import { GrantStore, type AuthorizationCode } from '../../../src/sandbox-cloud/identity/grants';
import type { StateSink } from '../../../src/sandbox-cloud/state-sink';

// The real SHA-256, counted: a code or refresh token is hashed once per request, not once per use of its handle.
const hashes = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../../src/sandbox-cloud/crypto-utils', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../src/sandbox-cloud/crypto-utils')>();
  return {
    ...real,
    sha256: (value: string) => {
      hashes.count++;
      return real.sha256(value);
    },
  };
});

const code = (): AuthorizationCode => ({
  cloud: 'global',
  clientId: 'app',
  redirectUri: 'http://localhost/cb',
  tenantId: 't',
  userId: 'u',
  oidcScopes: ['openid'],
  graphScopes: ['User.Read'],
  codeChallenge: 'c',
  issuedMs: 0,
  authTimeMs: 0,
  redeemed: false,
});

describe('sandbox grant store', () => {
  const written: [string, string, unknown][] = [];
  const sink: StateSink = { put: (table, key, value) => void written.push([table, key, value]), remove: () => undefined, setMeta: () => undefined, appendChange: () => undefined };
  beforeEach(() => {
    written.length = 0;
    hashes.count = 0;
  });

  it('hashes a new code once, and a presented code once to find and redeem it', () => {
    const grants = new GrantStore(sink);
    const value = grants.issueCode(code());
    expect(hashes.count).toBe(1);

    hashes.count = 0;
    const found = grants.findCode(value)!;
    grants.markRedeemed(found);
    expect(hashes.count).toBe(1);
    expect(grants.findCode(value)?.code.redeemed).toBe(true);
    // The redeemed code is written under the same key it was issued under (its hash, never the value).
    expect(written.map(([table, key]) => [table, key])).toEqual([['codes', found.key], ['codes', found.key]]);
    expect(found.key).not.toContain(value);
  });

  it('hashes a new refresh token once', () => {
    const grants = new GrantStore(sink);
    const value = grants.issueRefreshToken({ cloud: 'global', clientId: 'app', tenantId: 't', userId: 'u', oidcScopes: [], graphScopes: [], issuedMs: 0, authTimeMs: 0 });
    expect(hashes.count).toBe(1);
    expect(grants.findRefreshToken(value)?.clientId).toBe('app');
  });
});
