import { describe, expect, it } from 'vitest';
import { classifyEntries, decideSignIn, needsGroupCheck, refusalBeforeGraph, refusalFromCallback, refusalFromMicrosoft, strongestRefusal, type Entry } from '../../src/server/sso/decisions';

const entry = (over: Partial<Entry>): Entry => ({
  id: 'e',
  partner_id: 'p1',
  kind: 'user',
  role: 'member',
  status: 'active',
  email: 'alex@contoso.com',
  via_group_id: null,
  ms_object_id: 'oid-alex',
  app_profile_id: 'prof',
  partner_name: 'Partner One',
  ...over,
});
const group = (id: string, role: Entry['role'], status: Entry['status'] = 'active') => entry({ id, kind: 'group', role, status, ms_object_id: `OID-${id}`, email: `${id}@contoso.com` });

describe('single sign-on: the partner evaluation', () => {
  it('sorts a partner’s entries into the direct entry, the member record and the active groups', () => {
    const p = classifyEntries([entry({ id: 'direct' }), entry({ id: 'record', via_group_id: 'g1' }), group('g1', 'member'), group('g2', 'member', 'disabled')]);
    expect(p).toMatchObject({ partnerId: 'p1', partnerName: 'Partner One', direct: { id: 'direct' }, record: { id: 'record' } });
    expect(p.groups.map((g) => g.id)).toEqual(['g1']);
  });

  it('refuses before asking Graph: disabled entry, nothing that could let the person in', () => {
    expect(refusalBeforeGraph(classifyEntries([entry({ status: 'disabled' })]))).toBe('ACCOUNT_DISABLED');
    expect(refusalBeforeGraph(classifyEntries([entry({ via_group_id: 'gone' })]))).toBe('REMOVED_FROM_GROUP');
    expect(refusalBeforeGraph(classifyEntries([group('g1', 'member', 'disabled')]))).toBe('NOT_ADDED');
    expect(refusalBeforeGraph(classifyEntries([entry({})]))).toBeNull();
    expect(refusalBeforeGraph(classifyEntries([group('g1', 'member')]))).toBeNull();
  });

  it('asks Graph for a direct entry only when a group could raise its role', () => {
    expect(needsGroupCheck(classifyEntries([entry({})]))).toBe(false);
    expect(needsGroupCheck(classifyEntries([entry({}), group('g1', 'administrator', 'disabled')]))).toBe(false);
    expect(needsGroupCheck(classifyEntries([entry({}), group('g1', 'member')]))).toBe(false);
    expect(needsGroupCheck(classifyEntries([entry({ role: 'administrator' }), group('g1', 'administrator')]))).toBe(false);
    expect(needsGroupCheck(classifyEntries([entry({}), group('g1', 'administrator')]))).toBe(true);
    expect(needsGroupCheck(classifyEntries([group('g1', 'member')]))).toBe(true);
  });

  it('lets a direct entry in with the highest role of the groups the person is in', () => {
    const p = classifyEntries([entry({ id: 'direct' }), group('admins', 'administrator'), group('staff', 'member')]);
    expect(decideSignIn(p, new Set(['oid-admins']))).toMatchObject({ allow: 'user', userId: 'direct', groupRole: 'administrator' });
    expect(decideSignIn(p, new Set(['oid-staff']))).toMatchObject({ allow: 'user', groupRole: 'member' });
    expect(decideSignIn(p, new Set())).toMatchObject({ allow: 'user', groupRole: null, unmatched: [{ id: 'admins' }, { id: 'staff' }] });
  });

  it('lets a group member in through the group with the highest role, and refuses one who left every group', () => {
    const p = classifyEntries([group('staff', 'member'), group('admins', 'administrator')]);
    expect(decideSignIn(p, new Set(['oid-staff', 'oid-admins']))).toMatchObject({ allow: 'group', group: { id: 'admins' }, record: null });
    expect(decideSignIn(p, new Set())).toMatchObject({ refuse: 'NOT_ADDED', endRecordSessions: false });
    const withRecord = classifyEntries([group('staff', 'member'), entry({ id: 'rec', via_group_id: 'staff' })]);
    expect(decideSignIn(withRecord, new Set())).toMatchObject({ refuse: 'REMOVED_FROM_GROUP', endRecordSessions: true });
    const disabledRecord = classifyEntries([group('staff', 'member'), entry({ id: 'rec', via_group_id: 'staff', status: 'disabled' })]);
    expect(decideSignIn(disabledRecord, new Set(['oid-staff']))).toMatchObject({ refuse: 'ACCOUNT_DISABLED' });
  });

  it('shows the most specific refusal, and reads AADSTS50057 on the callback as a disabled account', () => {
    expect(strongestRefusal(['NOT_ADDED', 'CONSENT_REMOVED', 'EMAIL_IN_USE'])).toBe('EMAIL_IN_USE');
    expect(strongestRefusal(['NOT_ADDED', 'CONSENT_REMOVED'])).toBe('CONSENT_REMOVED');
    expect(strongestRefusal(['NOT_ADDED', 'ACCOUNT_DISABLED'])).toBe('ACCOUNT_DISABLED');
    expect(strongestRefusal([])).toBe('NOT_ADDED');
    expect(refusalFromCallback({ error: 'access_denied', errorDescription: 'AADSTS50057: The user account is disabled.' })).toBe('ACCOUNT_DISABLED');
    expect(refusalFromCallback({ error: 'server_error', errorDescription: 'AADSTS90002: Tenant not found.' })).toBe('MICROSOFT_ERROR');
  });

  it('names Microsoft’s refusal of the person’s own sign-in: consent removed, app disabled', () => {
    expect(refusalFromCallback({ error: 'consent_required', errorDescription: 'AADSTS65001: The user or administrator has not consented.' })).toBe('CONSENT_REMOVED');
    expect(refusalFromCallback({ error: 'access_denied', errorDescription: 'AADSTS90094: Admin consent is required.' })).toBe('CONSENT_REMOVED');
    expect(refusalFromMicrosoft([7000112])).toBe('APP_DISABLED');
    expect(refusalFromMicrosoft([700016])).toBe('APP_DISABLED');
    expect(refusalFromMicrosoft([50057])).toBe('ACCOUNT_DISABLED');
  });
});
