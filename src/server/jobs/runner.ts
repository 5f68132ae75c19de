import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/database';
import { createLeases } from './lease';

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
  const leases = createLeases(db);
  const jobs = new Map<string, { intervalMs: number; run: () => Promise<void> }>();
  let timer: NodeJS.Timeout | undefined;
  const running = new Set<Promise<unknown>>();

  const claim = (name: string, intervalMs: number, force: boolean) =>
    leases.claim(name, { leaseMs: Math.max(intervalMs, 60_000), dueAfterMs: force ? undefined : intervalMs });
  const release = (name: string) => leases.release(name);

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
