import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/server/db/database';
import { migrateToLatest } from '../../src/server/db/migrate';
import { createLeases } from '../../src/server/jobs/lease';
import { createJobRunner } from '../../src/server/jobs/runner';
import { openTestDatabase, testEngines } from '../support/engines';

const silent = { error: () => undefined, info: () => undefined, warn: () => undefined, child: () => silent } as never;

describe.each(testEngines())('job runner on %s', (engine) => {
  let database: DatabaseHandle;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ database, close } = await openTestDatabase(engine, 'jobs'));
    await migrateToLatest(database.db);
  });
  afterAll(async () => {
    await close?.();
  });

  it('runs a recurring job once across several instances sharing the database', async () => {
    let runs = 0;
    const work = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 50));
    };
    const instances = [1, 2, 3].map(() => createJobRunner(database.db, silent));
    for (const runner of instances) runner.every('shared-job', 60_000, work);
    const results = await Promise.all(instances.map((runner) => runner.runNow('shared-job')));
    expect(results.filter(Boolean).length).toBeGreaterThanOrEqual(1);
    expect(runs).toBe(results.filter(Boolean).length);
    // Right after a run, the scheduled tick finds nothing due on any instance.
    runs = 0;
    for (const runner of instances) runner.start();
    await new Promise((r) => setTimeout(r, 200));
    for (const runner of instances) await runner.stop();
    expect(runs).toBe(0);
  });

  it('runs a due job at the next tick, on one instance only', async () => {
    let runs = 0;
    const instances = [1, 2].map(() => createJobRunner(database.db, silent, { tickMs: 50 }));
    for (const runner of instances) runner.every('due-job', 1, async () => void runs++);
    for (const runner of instances) runner.start();
    await new Promise((r) => setTimeout(r, 30));
    for (const runner of instances) await runner.stop();
    expect(runs).toBe(1);
  });

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('a running job renews its lease: no other instance starts it while it runs past the lease time', async () => {
    let runs = 0;
    let finish!: () => void;
    const [a, b] = [1, 2].map(() => createJobRunner(database.db, silent, { tickMs: 50, leaseMs: 300 }));
    a.every('long-job', 1, async () => {
      runs++;
      await new Promise<void>((resolve) => (finish = resolve));
    });
    b.every('long-job', 1, async () => void runs++);
    a.start();
    await sleep(100);
    b.start();
    await sleep(1_000);
    expect(runs).toBe(1);
    finish();
    await a.stop();
    await b.stop();
  });

  it('the lease of a holder that died mid-run lapses, and another instance runs the job at once, not an interval later', async () => {
    // A dead instance: it won the lease and never renewed or released it.
    expect(await createLeases(database.db).claim('crashed-job', { leaseMs: 300, dueAfterMs: 60_000 })).toBe(true);
    let runs = 0;
    const survivor = createJobRunner(database.db, silent, { tickMs: 50 });
    survivor.every('crashed-job', 60_000, async () => void runs++);
    survivor.start();
    await sleep(150);
    expect(runs).toBe(0);
    await sleep(500);
    await survivor.stop();
    expect(runs).toBe(1);
  });

  it('a job still running at shutdown is given up: another instance runs it at its next tick', async () => {
    let runs = 0;
    const [stopping, other] = [1, 2].map(() => createJobRunner(database.db, silent, { tickMs: 50 }));
    stopping.every('interrupted-job', 60_000, async () => {
      runs++;
      await sleep(5_000);
    });
    other.every('interrupted-job', 60_000, async () => void runs++);
    stopping.start();
    await sleep(100);
    await stopping.stop(100);
    other.start();
    await sleep(300);
    await other.stop();
    expect(runs).toBe(2);
  });
});
