import { describe, expect, it } from 'vitest';
import { auditCsv } from '../../src/server/audit/csv';
import { auditActionName, explainAudit } from '../../src/server/audit/explain';
import type { AuditEvent } from '../../src/server/audit/store';

const event = (over: Partial<AuditEvent>): AuditEvent => ({
  id: '1',
  at: '2026-12-01T10:00:05.000Z',
  actorEmail: 'pat@contoso.com',
  action: 'session.signin',
  targetType: 'user',
  targetId: 'u1',
  targetName: 'pat@contoso.com',
  outcome: 'failure',
  clientAddress: '203.0.113.7',
  details: { reason: 'wrong_password' },
  ...over,
});

describe('audit entries in words', () => {
  it('names actions readably, also ones it does not know', () => {
    expect(auditActionName('app_profile.reauthorize')).toBe('App re-authorized');
    expect(auditActionName('widget.frobnicate_all')).toBe('Widget frobnicate all');
  });

  it('explains a failure from its stored reason or Microsoft code', () => {
    expect(explainAudit(event({}))).toEqual({ cause: 'The password was wrong.', fix: expect.stringContaining('right password') });
    expect(explainAudit(event({ action: 'app_profile.expired', details: { code: 'AADSTS700082' } }))?.cause).toMatch(/90 days/);
    expect(explainAudit(event({ outcome: 'success', details: { method: 'password' } }))).toBeNull();
  });

  it('writes CSV a spreadsheet opens safely: quoted fields, formulas defused', () => {
    const csv = auditCsv([event({ targetName: '=HYPERLINK("http://evil")', actorEmail: 'a,b@x.com' })]);
    const [header, row] = csv.split('\r\n');
    expect(header).toBe('Time (UTC),Actor,Action,Action code,Target type,Target,Outcome,Cause,Fix,Client address,Details');
    expect(row).toContain('"a,b@x.com",Sign-in,session.signin,user,"\'=HYPERLINK(""http://evil"")",Failure,The password was wrong.');
  });
});
