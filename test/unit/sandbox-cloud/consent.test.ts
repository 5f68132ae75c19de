import { describe, expect, it } from 'vitest';
import { ConsentStore } from '../../../src/sandbox-cloud/consent';
import type { StateSink } from '../../../src/sandbox-cloud/state-sink';

/** A sink that records what the store asks to write. */
function recordingSink() {
  const writes: { op: string; table?: string; key: string; value?: unknown }[] = [];
  const sink: StateSink = {
    put: (table, key, value) => void writes.push({ op: 'put', table, key, value }),
    remove: (table, key) => void writes.push({ op: 'remove', table, key }),
    setMeta: (key, value) => void writes.push({ op: 'setMeta', key, value }),
    appendChange: () => undefined,
  };
  return { sink, writes };
}

const TENANT = '4f6d1d0e-1c2b-4d9a-9a55-0b7c3e1f2a10';

describe('sandbox consent store persistence', () => {
  it('writes one row per change, however many consents exist', () => {
    const { sink, writes } = recordingSink();
    const store = new ConsentStore(sink);
    for (let i = 0; i < 200; i++) store.grantTenant(TENANT, `client-${i}`, ['User.Read', 'Group.Read.All']);
    writes.length = 0;

    store.grantUser(TENANT, 'client-7', 'user-1', ['User.Read']);
    expect(writes).toEqual([
      { op: 'put', table: 'consents', key: `user:${TENANT}|client-7|user-1`, value: { kind: 'user', key: `${TENANT}|client-7|user-1`, scopes: ['User.Read'] } },
    ]);

    writes.length = 0;
    store.setBlockedScopes(TENANT, ['Directory.Read.All']);
    expect(writes).toEqual([{ op: 'put', table: 'consents', key: `blocked:${TENANT}`, value: { kind: 'blocked', key: TENANT, scopes: ['Directory.Read.All'] } }]);
  });

  it('revoking one app removes its rows only', () => {
    const { sink, writes } = recordingSink();
    const store = new ConsentStore(sink);
    for (let i = 0; i < 50; i++) store.grantTenant(TENANT, `client-${i}`, ['User.Read']);
    store.grantUser(TENANT, 'client-3', 'user-1', ['User.Read']);
    writes.length = 0;

    expect(store.revoke(TENANT, 'client-3')).toBe(2);
    expect(writes).toEqual([
      { op: 'remove', table: 'consents', key: `tenant:${TENANT}|client-3` },
      { op: 'remove', table: 'consents', key: `user:${TENANT}|client-3|user-1` },
    ]);
  });

  it('restores what it wrote', () => {
    const { sink, writes } = recordingSink();
    const store = new ConsentStore(sink);
    store.setBlockedScopes(TENANT, ['Directory.Read.All']);
    store.grantTenant(TENANT, 'app', ['User.Read', 'Directory.Read.All']);
    store.grantUser(TENANT, 'other', 'user-1', ['User.Read']);

    const restored = new ConsentStore();
    restored.restore(writes.map((w) => w.value as never));
    expect([...restored.consentedScopes(TENANT, 'app', 'anyone')]).toEqual(['User.Read']);
    expect(restored.hasConsent(TENANT, 'other', 'user-1')).toBe(true);
    expect(restored.hasConsent(TENANT, 'other', 'user-2')).toBe(false);
    restored.grantTenant(TENANT, 'third', ['Directory.Read.All']);
    expect(restored.tenantScopes(TENANT, 'third').size).toBe(0);
  });
});
