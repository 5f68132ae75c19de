import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDIT_ACTIONS } from '../../src/server/audit/actions';
import { auditCsv } from '../../src/server/audit/csv';
import { AUDIT_ACTION_NAMES, auditActionName, explainAudit } from '../../src/server/audit/explain';
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

  it('has a name of its own for every action the portal writes', () => {
    for (const action of AUDIT_ACTIONS) expect(Object.hasOwn(AUDIT_ACTION_NAMES, action) && AUDIT_ACTION_NAMES[action].trim(), action).toBeTruthy();
    expect(Object.keys(AUDIT_ACTION_NAMES).sort()).toEqual([...AUDIT_ACTIONS].sort());
    expect(new Set(Object.values(AUDIT_ACTION_NAMES)).size).toBe(AUDIT_ACTIONS.length);
  });

  it('lists every action written in src/server among the audit actions (no action slips past the type)', () => {
    const root = path.resolve(__dirname, '../../src/server');
    const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.startsWith(`db${path.sep}migrations`));
    const written = new Set<string>();
    // `action: 'x.y'` in an entry, and the first argument of the per-feature helpers (`record('x.y', ...)`, `audited(...)('x.y', ...)`).
    const patterns = [/\baction: (?:[^,}]*?\? )?'([a-z_]+\.[a-z_.]+)'(?: : '([a-z_]+\.[a-z_.]+)')?/g, /\b(?:record|audited\([^)]*\))\('([a-z_]+\.[a-z_.]+)'/g];
    for (const file of files) {
      const source = readFileSync(path.join(root, file), 'utf8');
      for (const pattern of patterns) for (const m of source.matchAll(pattern)) m.slice(1).forEach((a) => a && written.add(a));
    }
    expect(written.size).toBeGreaterThan(15);
    expect([...written].filter((a) => !(AUDIT_ACTIONS as readonly string[]).includes(a))).toEqual([]);
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
