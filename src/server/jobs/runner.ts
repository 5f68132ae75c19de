import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Metrics } from '../metrics/index';
import type { Db } from '../db/database';
import { createLeases } from './lease';

export interface JobRunner {
  every(name: string, intervalMs: number, run: (log: FastifyBaseLogger) => Promise<void>): void;
  /** Runs a job now on this instance if no other instance holds its lease. */
  runNow(name: string): Promise<boolean>;
  start(): void;
  /**
   * Stops scheduling and waits up to `graceMs` for running jobs; the leases of jobs still running then
   * are released, so another instance takes their work over at once instead of when the lease lapses.
   */
  stop(graceMs?: number): Promise<void>;
}

const TICK_MS = 30_000;

/**
 * Recurring jobs over the database: a job runs when its interval has passed and this instance wins
 * its lease with a conditional update (atomic on both engines), so several instances sharing one
 * PostgreSQL run each job once.
 */
export function createJobRunner(db: Db, log: FastifyBaseLogger, options: { tickMs?: number; metrics?: Pick<Metrics, 'jobRun'> } = {}): JobRunner {
  const leases = createLeases(db);
  const jobs = new Map<string, { intervalMs: number; run: (log: FastifyBaseLogger) => Promise<void> }>();
  let timer: NodeJS.Timeout | undefined;
  const running = new Set<Promise<unknown>>();
  const held = new Set<string>();

  const claim = (name: string, intervalMs: number, force: boolean) =>
    leases.claim(name, { leaseMs: Math.max(intervalMs, 60_000), dueAfterMs: force ? undefined : intervalMs });
  const release = (name: string) => leases.release(name);

  async function execute(name: string, force: boolean): Promise<boolean> {
    const job = jobs.get(name);
    if (!job) return false;
    if (!(await claim(name, job.intervalMs, force))) return false;
    held.add(name);
    // Every line this run logs carries its job name and run id (the job's own lines included).
    const runLog = log.child({ job: name, jobRunId: randomUUID() });
    const startedAt = performance.now();
    try {
      await job.run(runLog);
      options.metrics?.jobRun(name, 'success', (performance.now() - startedAt) / 1000);
    } catch (error) {
      options.metrics?.jobRun(name, 'failure', (performance.now() - startedAt) / 1000);
      runLog.error({ err: error }, 'background job failed');
    } finally {
      if (held.delete(name)) await release(name).catch(() => undefined);
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
    async stop(graceMs = Infinity) {
      if (timer) clearInterval(timer);
      let graceTimer: NodeJS.Timeout | undefined;
      const grace = Number.isFinite(graceMs) ? new Promise((resolve) => (graceTimer = setTimeout(resolve, graceMs))) : new Promise(() => undefined);
      await Promise.race([Promise.allSettled([...running]), grace]);
      clearTimeout(graceTimer);
      const unfinished = [...held];
      held.clear();
      if (unfinished.length > 0) log.warn({ jobs: unfinished }, 'shutting down: leases of unfinished jobs released');
      await Promise.allSettled(unfinished.map((name) => release(name)));
    },
  };
}
