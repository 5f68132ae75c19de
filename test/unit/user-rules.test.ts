import { describe, expect, it } from 'vitest';
import { localAddressVerdict, placeFound, screenAddresses, tenantAddressVerdict, type FoundObject } from '../../src/server/users/rules';

describe('adding users: address screening', () => {
  it('keeps well-formed unique addresses lower-cased, in request order, and rejects the rest one by one', () => {
    const { valid, rejected } = screenAddresses([' Alex@Contoso.com ', 'not-an-email', 'alex@contoso.com', '', 'diego@contoso.com', `${'x'.repeat(250)}@a.io`]);
    expect(valid).toEqual(['alex@contoso.com', 'diego@contoso.com']);
    expect(rejected.map((r) => [r.email.slice(0, 20), r.code])).toEqual([
      ['not-an-email', 'INVALID_EMAIL'],
      ['alex@contoso.com', 'DUPLICATE_IN_REQUEST'],
      ['', 'INVALID_EMAIL'],
      ['x'.repeat(20), 'INVALID_EMAIL'],
    ]);
    expect(rejected[0].message).toMatch(/not a valid email address/);
  });

  it('refuses a local address the partner has, or that is any partner’s local account', () => {
    expect(localAddressVerdict('a@x.io', new Set(['a@x.io']), new Set(['a@x.io']))).toBe('ALREADY_ADDED');
    expect(localAddressVerdict('a@x.io', new Set(), new Set(['a@x.io']))).toBe('EMAIL_TAKEN');
    expect(localAddressVerdict('a@x.io', new Set(), new Set())).toBeNull();
  });

  it('asks Graph only for addresses of the tenant’s verified domains that the partner has not added', () => {
    const domains = new Set(['contoso.com']);
    expect(tenantAddressVerdict('alex@contoso.com', new Set(['alex@contoso.com']), domains)).toBe('ALREADY_ADDED');
    expect(tenantAddressVerdict('nora@northwind.com', new Set(), domains)).toBe('FOREIGN_DOMAIN');
    expect(tenantAddressVerdict('alex@sub.contoso.com', new Set(), domains)).toBe('FOREIGN_DOMAIN');
    expect(tenantAddressVerdict('alex@contoso.com', new Set(), domains)).toBeNull();
  });

  it('adds each found object once: already added or named twice in the request is rejected', () => {
    const alex = (email: string): FoundObject => ({ email, kind: 'user', objectId: 'oid-alex', displayName: 'Alex' });
    const sales: FoundObject = { email: 'sales@contoso.com', kind: 'group', objectId: 'oid-sales', displayName: 'Sales' };
    const placed = placeFound([alex('alex@contoso.com'), 'NOT_FOUND_IN_TENANT', alex('alex.w@contoso.com'), sales], new Set(['oid-sales']));
    expect(placed).toEqual([alex('alex@contoso.com'), 'NOT_FOUND_IN_TENANT', 'DUPLICATE_IN_REQUEST', 'ALREADY_ADDED']);
  });
});
