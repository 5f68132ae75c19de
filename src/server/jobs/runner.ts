import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/database';

export interface JobRunner {
  every(name: string, intervalMs: number, run: () => Promise<void>): void;
  /** Runs a job now on this instance if no other instance holds its lease. */
  runNow(name: string): Promise<boolean>;
  start(): void;
  stop(): Promise<void>;
}

const TICK_MS = 30_000;

/**
 * Recurring jobs over the database: a job runs when its interval has passed and this instance wins
 * its lease with a conditional update (atomic on both engines), so several instances sharing one
 * PostgreSQL run each job once.
 */
export function createJobRunner(db: Db, log: FastifyBaseLogger, options: { tickMs?: number } = {}): JobRunner {
  const holder = randomUUID();
  const jobs = new Map<string, { intervalMs: number; run: () => Promise<void> }>();
  let timer: NodeJS.Timeout | undefined;
  const running = new Set<Promise<unknown>>();

  async function claim(name: string, intervalMs: number, force: boolean): Promise<boolean> {
    const now = new Date();
    const nowIso = now.toISOString();
    await db
      .insertInto('job_leases')
      .values({ name, holder: null, lease_until: new Date(0).toISOString(), last_run_at: null })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const dueBefore = new Date(now.getTime() - intervalMs).toISOString();
    let claim = db
      .updateTable('job_leases')
      .set({ holder, lease_until: new Date(now.getTime() + Math.max(intervalMs, 60_000)).toISOString(), last_run_at: nowIso })
      .where('name', '=', name)
      .where('lease_until', '<', nowIso);
    if (!force) claim = claim.where((eb) => eb.or([eb('last_run_at', 'is', null), eb('last_run_at', '<', dueBefore)]));
    const result = await claim.executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async function release(name: string): Promise<void> {
    await db.updateTable('job_leases').set({ holder: null, lease_until: new Date(0).toISOString() }).where('name', '=', name).where('holder', '=', holder).execute();
  }

  async function execute(name: string, force: boolean): Promise<boolean> {
    const job = jobs.get(name);
    if (!job) return false;
    if (!(await claim(name, job.intervalMs, force))) return false;
    try {
      await job.run();
    } catch (error) {
      log.error({ err: error, job: name }, 'background job failed');
    } finally {
      await release(name).catch(() => undefined);
    }
    return true;
  }

  function tick(): void {
    for (const name of jobs.keys()) {
      const p = execute(name, false).catch((error) => log.error({ err: error, job: name }, 'job lease failed'));
      running.add(p);
      void p.finally(() => running.delete(p));
    }
  }

  return {
    every(name, intervalMs, run) {
      jobs.set(name, { intervalMs, run });
    },
    runNow: (name) => execute(name, true),
    start() {
      tick();
      timer = setInterval(tick, options.tickMs ?? TICK_MS);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await Promise.allSettled([...running]);
    },
  };
}
