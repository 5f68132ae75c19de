import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/server/db/database';
import { migrateToLatest } from '../../src/server/db/migrate';
import { createJobQueue } from '../../src/server/jobs/queue';
import { enqueueRecurring } from '../../src/server/jobs/recurring';
import { createQueueWorker, PermanentJobError } from '../../src/server/jobs/worker';
import { openTestDatabase, testEngines } from '../support/engines';

const silent = { error: () => undefined, info: () => undefined, warn: () => undefined, child: () => silent } as never;
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let keys = 0;
const key = () => `test-${Date.now()}-${keys++}`;

describe.each(testEngines())('job queue on %s', (engine) => {
  let database: DatabaseHandle;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ database, close } = await openTestDatabase(engine, 'queue'));
    await migrateToLatest(database.db);
  });
  afterAll(async () => {
    await close?.();
  });
  const queue = (owner?: string) => createJobQueue(database.db, database.engine, owner);

  it('enqueues once per key, and a restart requeues a finished job afresh', async () => {
    const q = queue();
    const k = key();
    const first = await q.enqueue({ kind: 'k-enqueue', key: k, payload: { n: 1 } });
    const second = await q.enqueue({ kind: 'k-enqueue', key: k, payload: { n: 2 } });
    expect(first.added).toBe(true);
    expect(second).toEqual({ id: first.id, added: false });
    expect(await database.db.selectFrom('jobs').select('id').where('key', '=', k).execute()).toHaveLength(1);

    const job = (await q.claim(['k-enqueue'], 10_000))!;
    expect(job).toMatchObject({ id: first.id, payload: { n: 1 }, attempts: 1 });
    await q.checkpoint(job.id, { page: 3 }, 10_000);
    await q.complete(job.id);
    // A finished job is not run again by a plain enqueue; a restart runs it afresh.
    await q.enqueue({ kind: 'k-enqueue', key: k });
    expect(await q.claim(['k-enqueue'], 10_000)).toBeUndefined();
    await q.enqueue({ kind: 'k-enqueue', key: k, payload: { n: 3 }, restart: true });
    expect(await q.claim(['k-enqueue'], 10_000)).toMatchObject({ id: first.id, payload: { n: 3 }, attempts: 1, checkpoint: null });
  });

  it('adds a recurring job once per interval, none while the last is unfinished, and purges finished ones once old', async () => {
    const q = queue();
    await database.db.deleteFrom('jobs').where('kind', '=', 'app-profile-health').execute();
    // Instances that claimed the same interval (one died after enqueueing) name the same key: one job.
    expect(await enqueueRecurring(q, 'app-profile-health', '2026-12-01T10:00:00.000Z')).toBe(true);
    expect(await enqueueRecurring(q, 'app-profile-health', '2026-12-01T10:00:00.000Z')).toBe(false);
    // The next interval's job waits for the last one to finish.
    expect(await enqueueRecurring(q, 'app-profile-health', '2026-12-02T10:00:00.000Z')).toBe(false);
    const job = (await q.claim(['app-profile-health'], 10_000))!;
    expect(await enqueueRecurring(q, 'app-profile-health', '2026-12-02T10:00:00.000Z')).toBe(false);
    await q.complete(job.id);
    expect(await enqueueRecurring(q, 'app-profile-health', '2026-12-02T10:00:00.000Z')).toBe(true);
    const keysNow = async () => (await database.db.selectFrom('jobs').select('key').where('kind', '=', 'app-profile-health').orderBy('key').execute()).map((r) => r.key);
    expect(await keysNow()).toEqual(['app-profile-health:2026-12-01T10:00:00.000Z', 'app-profile-health:2026-12-02T10:00:00.000Z']);
    // Only finished jobs of the given kinds older than the cut-off go.
    expect(await q.purgeFinished(['app-profile-health'], new Date(Date.now() - 60_000).toISOString())).toBe(0);
    expect(await q.purgeFinished(['app-profile-health'], new Date(Date.now() + 60_000).toISOString())).toBe(1);
    expect(await keysNow()).toEqual(['app-profile-health:2026-12-02T10:00:00.000Z']);
  });

  it('gives each due job to one of many claimers at once', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++) ids.add((await queue().enqueue({ kind: 'k-race', key: key() })).id);
    const claimers = Array.from({ length: 8 }, () => queue());
    const claimed: string[] = [];
    await Promise.all(
      claimers.map(async (q) => {
        for (;;) {
          const job = await q.claim(['k-race'], 10_000);
          if (!job) return;
          claimed.push(job.id);
        }
      }),
    );
    expect(claimed.sort()).toEqual([...ids].sort());
  });

  it('lets another worker take over a job whose lease lapsed, from its checkpoint; the old holder can no longer write', async () => {
    const dead = queue();
    const { id } = await dead.enqueue({ kind: 'k-lease', key: key() });
    const job = (await dead.claim(['k-lease'], 300))!;
    expect(await dead.checkpoint(job.id, { nextLink: 'page-2' }, 300)).toBe(true);
    const heir = queue();
    expect(await heir.claim(['k-lease'], 10_000)).toBeUndefined();
    await delay(350);
    const taken = (await heir.claim(['k-lease'], 10_000))!;
    expect(taken).toMatchObject({ id, attempts: 2, checkpoint: { nextLink: 'page-2' } });
    expect(await dead.heartbeat(id, 10_000)).toBe(false);
    expect(await dead.checkpoint(id, { nextLink: 'stale' }, 10_000)).toBe(false);
    await dead.complete(id);
    expect((await heir.get(id))!.state).toBe('running');
    await heir.complete(id);
    expect((await heir.get(id))!.state).toBe('done');
  });

  it('retries a failed attempt after a growing, jittered backoff and fails for good after the last attempt', async () => {
    const q = queue();
    const { id } = await q.enqueue({ kind: 'k-fail', key: key(), maxAttempts: 2 });
    const first = (await q.claim(['k-fail'], 10_000))!;
    const before = Date.now();
    const { retryAt } = await q.fail(first, new Error('Graph said 500'), { random: () => 0 });
    // Attempt 1 of 2: waits between 2.5 and 5 s (here the lower end).
    expect(Date.parse(retryAt!) - before).toBeGreaterThanOrEqual(2_400);
    expect(Date.parse(retryAt!) - before).toBeLessThan(5_100);
    expect(await q.get(id)).toMatchObject({ state: 'queued', last_error: 'Graph said 500' });
    expect(await q.claim(['k-fail'], 10_000)).toBeUndefined();
    await database.db.updateTable('jobs').set({ run_after: new Date(Date.now() - 1).toISOString() }).where('id', '=', id).execute();
    const second = (await q.claim(['k-fail'], 10_000))!;
    expect(second.attempts).toBe(2);
    expect(await q.fail(second, new Error('again'))).toEqual({ retryAt: null });
    expect(await q.get(id)).toMatchObject({ state: 'failed', last_error: 'again', lease_owner: null });
  });

  it('runs jobs through a worker: completes, retries, fails permanent errors at once, and gives running jobs back on stop', async () => {
    const q = queue();
    const worker = createQueueWorker(q, { leaseMs: 5_000, pollMs: 50 });
    const seen: string[] = [];
    worker.handle<{ name: string }, { step: number }>('k-worker', async (job, context) => {
      seen.push(job.payload.name);
      if (job.payload.name === 'gone') throw new PermanentJobError('the group was removed');
      if (job.payload.name === 'flaky' && job.attempts === 1) throw new Error('first attempt fails');
      if (job.payload.name === 'long') {
        await context.checkpoint({ step: 1 });
        await new Promise((resolve, reject) => context.signal.addEventListener('abort', () => reject(context.signal.reason as Error)));
      }
    });
    const ok = await q.enqueue({ kind: 'k-worker', key: key(), payload: { name: 'ok' } });
    const gone = await q.enqueue({ kind: 'k-worker', key: key(), payload: { name: 'gone' } });
    const flaky = await q.enqueue({ kind: 'k-worker', key: key(), payload: { name: 'flaky' } });
    expect(await worker.runJob(ok.id)).toEqual({ state: 'done' });
    expect(await worker.runJob(gone.id)).toMatchObject({ state: 'failed' });
    expect(await worker.runJob(flaky.id)).toMatchObject({ state: 'queued', retryAt: expect.any(String) });
    expect(await q.get(flaky.id)).toMatchObject({ state: 'queued', attempts: 1, last_error: 'first attempt fails' });

    const long = await q.enqueue({ kind: 'k-worker', key: key(), payload: { name: 'long' } });
    worker.start(silent);
    for (let i = 0; i < 100 && (await q.get(long.id))!.checkpoint === null; i++) await delay(20);
    expect((await q.get(long.id))!.state).toBe('running');
    await worker.stop(1_000);
    // Given back at once, due now, its checkpoint and attempt count kept for the next instance.
    expect(await q.get(long.id)).toMatchObject({ state: 'queued', lease_owner: null, attempts: 0, checkpoint: JSON.stringify({ step: 1 }) });
    expect(seen.filter((n) => n === 'long')).toHaveLength(1);
  });
});
