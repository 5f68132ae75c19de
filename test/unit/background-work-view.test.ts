import { describe, expect, it } from 'vitest';
import { downloadWork, nextHealthCheckAt, nextRunAt, retryOf, syncOutcome, syncStopWords } from '../../src/server/background-work/view';
import type { JobsTable } from '../../src/server/db/tables';

const NOW = '2026-12-01T12:00:00.000Z';
const group = { id: 'g1', email: 'sales@contoso.com', display_name: 'Sales', sync_done: null, sync_total: null, last_synced_at: null, download_failed_at: null, download_failure: null };
const job = (changes: Partial<JobsTable>): JobsTable => ({
  id: 'j1', kind: 'group-members', partner_id: 'p1', key: 'group-members:g1', payload: '{}', state: 'queued', attempts: 1, max_attempts: 5,
  run_after: NOW, lease_owner: null, lease_until: null, checkpoint: null, last_error: null, created_at: NOW, updated_at: NOW, ...changes,
});

describe('a group download as the administrator sees it', () => {
  it('a queued job with an error and a later run time waits to retry, with when and the group’s reason', () => {
    const failed = { ...group, sync_done: 999, sync_total: 5000, download_failed_at: NOW, download_failure: 'The membership download stopped after 999 of 5000 members: Graph answered 503' };
    expect(downloadWork(failed, job({ last_error: 'Graph answered 503', run_after: '2026-12-01T12:00:10.000Z' }), NOW)).toMatchObject({
      state: 'waiting', retryAt: '2026-12-01T12:00:10.000Z', reason: failed.download_failure, progress: { done: 999, total: 5000 }, retryable: true,
    });
  });

  it('a queued job due now (an error or not) is queued, not waiting, and not retryable', () => {
    expect(downloadWork(group, job({ last_error: 'Graph answered 503', run_after: NOW }), NOW)).toMatchObject({ state: 'queued', retryAt: null, reason: null, retryable: false });
  });

  it('a failed job keeps its reason (the job’s when the group has none) and can be retried; a done one cannot', () => {
    expect(downloadWork(group, job({ state: 'failed', last_error: 'The group’s app profile no longer exists.' }), NOW)).toMatchObject({ state: 'failed', reason: 'The group’s app profile no longer exists.', retryable: true });
    expect(downloadWork({ ...group, last_synced_at: NOW }, job({ state: 'done' }), NOW)).toMatchObject({ state: 'done', completedAt: NOW, reason: null, retryable: false });
  });

  it('a running job shows its progress', () => {
    expect(downloadWork({ ...group, sync_done: 1998, sync_total: 50_000 }, job({ state: 'running' }), NOW)).toMatchObject({ state: 'running', progress: { done: 1998, total: 50_000 } });
  });
});

describe('when the recurring jobs next take a profile up', () => {
  const now = new Date(NOW);
  const hour = 3_600_000;
  it('an interval after the last run, or now when it never ran or is overdue', () => {
    expect(nextRunAt(null, hour, now)).toEqual(now);
    expect(nextRunAt('2026-12-01T11:30:00.000Z', hour, now).toISOString()).toBe('2026-12-01T12:30:00.000Z');
    expect(nextRunAt('2026-12-01T09:00:00.000Z', hour, now)).toEqual(now);
  });
  it('the health sweep skips a profile checked within half its interval, taking it up one sweep later', () => {
    expect(nextHealthCheckAt('2026-12-01T11:30:00.000Z', '2026-12-01T11:00:00.000Z', hour, now).toISOString()).toBe('2026-12-01T12:30:00.000Z');
    expect(nextHealthCheckAt('2026-12-01T11:30:00.000Z', '2026-12-01T12:10:00.000Z', hour, now).toISOString()).toBe('2026-12-01T13:30:00.000Z');
  });
});

describe('where the directory sync stands for a profile', () => {
  const base = { active: true, inUse: true, running: false, lastStartedAt: '2026-12-01T11:00:00.000Z', lastCompletedAt: '2026-12-01T11:00:05.000Z' };
  it('completed when the last run stored its delta links; failed when a later run stopped short; not while it runs', () => {
    expect(syncOutcome(base).outcome).toBe('completed');
    expect(syncOutcome({ ...base, lastStartedAt: '2026-12-01T11:15:00.000Z' }).outcome).toBe('failed');
    expect(syncOutcome({ ...base, lastCompletedAt: null }).outcome).toBe('failed');
    expect(syncOutcome({ ...base, lastStartedAt: '2026-12-01T11:15:00.000Z', running: true }).outcome).toBe('completed');
    expect(syncOutcome({ ...base, lastStartedAt: null, lastCompletedAt: null }).outcome).toBe('never');
  });
  it('paused for an expired profile, not needed without Microsoft 365 entries', () => {
    expect(syncOutcome({ ...base, active: false }).outcome).toBe('paused');
    expect(syncOutcome({ ...base, inUse: false }).outcome).toBe('not_needed');
  });
  it('waiting while the round that stopped for the profile is due again later, failed once it is out of attempts; running wins', () => {
    const later = '2026-12-01T12:00:05.000Z';
    expect(syncOutcome({ ...base, retry: { at: later, reason: syncStopWords('GRAPH_500', later) } })).toEqual({ outcome: 'waiting', reason: expect.stringMatching(/Graph answered 500.*tried again automatically/) });
    expect(syncOutcome({ ...base, retry: { at: null, reason: syncStopWords('MICROSOFT_UNAVAILABLE', null) } })).toEqual({ outcome: 'failed', reason: expect.stringMatching(/could not be reached.*next scheduled run/) });
    expect(syncOutcome({ ...base, running: true, retry: { at: later, reason: 'x' } }).outcome).toBe('completed');
    expect(syncOutcome({ ...base, active: false, retry: { at: later, reason: 'x' } }).outcome).toBe('paused');
  });
});

describe("a recurring job's retry", () => {
  const now = '2026-12-01T12:00:00.000Z';
  it('waits when queued after a failed attempt and due later; failed for good has no time; otherwise none', () => {
    expect(retryOf({ state: 'queued', last_error: 'boom', run_after: '2026-12-01T12:00:04.000Z' }, now)).toEqual({ at: '2026-12-01T12:00:04.000Z' });
    expect(retryOf({ state: 'failed', last_error: 'boom', run_after: now }, now)).toEqual({ at: null });
    expect(retryOf({ state: 'queued', last_error: null, run_after: '2026-12-01T12:00:04.000Z' }, now)).toBeUndefined();
    expect(retryOf({ state: 'queued', last_error: 'boom', run_after: '2026-12-01T11:59:00.000Z' }, now)).toBeUndefined();
    expect(retryOf({ state: 'done', last_error: null, run_after: now }, now)).toBeUndefined();
    expect(retryOf(undefined, now)).toBeUndefined();
  });
});
