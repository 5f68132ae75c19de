import { describe, expect, it } from 'vitest';
import { changedGroups, diffSyncedUser } from '../../src/server/directory-sync/user-diff';
import type { SyncedEntry } from '../../src/server/users/store';

const entry: SyncedEntry = { id: 'u1', ms_object_id: 'oid', display_name: 'Alex Wilber', email_key: 'alex@contoso.com', status: 'active' };

describe('directory sync: the user diff', () => {
  it('changes nothing when Graph reports the same person', () => {
    expect(diffSyncedUser(entry, { id: 'oid', displayName: 'Alex Wilber', mail: 'alex@contoso.com', userPrincipalName: 'alex@contoso.com', accountEnabled: true })).toEqual({ changes: {}, endSessions: false, disabled: false, enabled: false });
  });

  it('disables and ends sessions for a blocked or deleted account; a deleted one keeps its name and address', () => {
    expect(diffSyncedUser(entry, { id: 'oid', accountEnabled: false })).toMatchObject({ changes: { status: 'disabled' }, endSessions: true, disabled: true });
    expect(diffSyncedUser(entry, { id: 'oid', displayName: 'Gone', '@removed': { reason: 'deleted' } })).toEqual({ changes: { status: 'disabled' }, endSessions: true, disabled: true, enabled: false });
    // Already disabled: sessions end again, nothing to count.
    expect(diffSyncedUser({ ...entry, status: 'disabled' }, { id: 'oid', accountEnabled: false })).toEqual({ changes: {}, endSessions: true, disabled: false, enabled: false });
  });

  it('enables a re-enabled account and follows name and address changes (mail first)', () => {
    const diff = diffSyncedUser({ ...entry, status: 'disabled' }, { id: 'oid', displayName: 'Alex W.', mail: 'Alex.W@Contoso.com', userPrincipalName: 'alexw@contoso.com', accountEnabled: true });
    expect(diff).toEqual({ changes: { status: 'active', display_name: 'Alex W.', email: 'alex.w@contoso.com' }, endSessions: false, disabled: false, enabled: true });
    // The entry's address is still the UPN: kept.
    expect(diffSyncedUser(entry, { id: 'oid', mail: 'other@contoso.com', userPrincipalName: 'ALEX@contoso.com' }).changes).toEqual({});
  });

  it('marks groups whose membership changed or that were removed, and keeps their names', () => {
    const seen = { changed: new Set<string>(), names: new Map<string, string>() };
    changedGroups(
      [
        { id: 'G1', displayName: 'Sales', 'members@delta': [{ id: 'u' }] },
        { id: 'G2', displayName: 'Support' },
        { id: 'G3', '@removed': { reason: 'deleted' } },
      ],
      seen,
    );
    expect([...seen.changed]).toEqual(['g1', 'g3']);
    expect(Object.fromEntries(seen.names)).toEqual({ g1: 'Sales', g2: 'Support' });
  });
});
