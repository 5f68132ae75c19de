import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Metrics } from '../metrics/index';
import type { Db } from '../db/database';
import { createLeases } from './lease';

export interface JobRunner {
  every(name: string, intervalMs: number, run: (log: FastifyBaseLogger) => Promise<void>): void;
  /**
   * Like `every`, for work that runs as a queue job: `enqueue` only adds the interval's job (it is handed the
   * start of the interval, for the job's idempotency key) and is not counted as a job run (the queued job is).
   */
  enqueueEvery(name: string, intervalMs: number, enqueue: (intervalStart: string, log: FastifyBaseLogger) => Promise<void>): void;
  /** Runs a job now on this instance if no other instance holds its lease. */
  runNow(name: string): Promise<boolean>;
  start(): void;
  /**
   * Stops scheduling and waits up to `graceMs` for running jobs; the leases of jobs still running then
   * are given up, so another instance takes their work over at its next tick instead of when the lease lapses.
   */
  stop(graceMs?: number): Promise<void>;
}

const TICK_MS = 30_000;
const MIN_TICK_MS = 1_000;
/** How long a job's lease outlives a holder that stopped renewing it (a killed instance). */
const JOB_LEASE_MS = 60_000;

/**
 * How often an instance looks for due jobs: every 30 s, or a tenth of the shortest interval when that is
 * shorter (at least 1 s), so a job is never late by more than a tenth of its interval.
 */
function tickFor(intervalsMs: number[]): number {
  return Math.min(TICK_MS, Math.max(MIN_TICK_MS, Math.min(...intervalsMs) / 10));
}

/**
 * The start of the interval a run claimed at `at` belongs to, counted from the epoch: runs an interval apart
 * fall in different intervals, and an instance that claims again after a holder died mid-enqueue names the same
 * one (so a job keyed by it is not added twice).
 */
export function intervalStartOf(at: number, intervalMs: number): string {
  return new Date(Math.floor(at / intervalMs) * intervalMs).toISOString();
}

/**
 * Recurring jobs over the database: a job runs when its interval has passed and this instance wins
 * its lease with a conditional update (atomic on both engines), so several instances sharing one
 * PostgreSQL run each job once. A running job renews its lease every third of `leaseMs`; when its
 * instance dies, the lease lapses after at most `leaseMs` and another instance runs the job at its next tick.
 */
export function createJobRunner(db: Db, log: FastifyBaseLogger, options: { tickMs?: number; leaseMs?: number; metrics?: Pick<Metrics, 'jobRun'> } = {}): JobRunner {
  const leases = createLeases(db);
  const leaseMs = options.leaseMs ?? JOB_LEASE_MS;
  const jobs = new Map<string, { intervalMs: number; run: (log: FastifyBaseLogger, intervalStart: string) => Promise<void>; counted: boolean }>();
  let timer: NodeJS.Timeout | undefined;
  const running = new Set<Promise<unknown>>();
  /** Jobs running here whose lease this instance holds, each with the function that stops renewing it. */
  const held = new Map<string, () => void>();

  const claim = (name: string, intervalMs: number, force: boolean) => leases.claim(name, { leaseMs, dueAfterMs: force ? undefined : intervalMs });

  /** Keeps the lease of a running job from lapsing; answers the function that stops renewing. */
  const keepLease = (name: string, runLog: FastifyBaseLogger): (() => void) =>
    leases.keep(name, leaseMs, (error) =>
      error === undefined ? runLog.warn('job lease lost: another instance may run this job too') : runLog.warn({ err: error }, 'job lease renewal failed'),
    );

  async function execute(name: string, force: boolean): Promise<boolean> {
    const job = jobs.get(name);
    if (!job) return false;
    if (!(await claim(name, job.intervalMs, force))) return false;
    const claimedAt = Date.now();
    // Every line this run logs carries its job name and run id (the job's own lines included).
    const runLog = log.child({ job: name, jobRunId: randomUUID() });
    const startedAt = performance.now();
    held.set(name, keepLease(name, runLog));
    try {
      await job.run(runLog, intervalStartOf(claimedAt, job.intervalMs));
      if (job.counted) options.metrics?.jobRun(name, 'success', (performance.now() - startedAt) / 1000);
    } catch (error) {
      if (job.counted) options.metrics?.jobRun(name, 'failure', (performance.now() - startedAt) / 1000);
      runLog.error({ err: error }, 'background job failed');
    } finally {
      const stopRenewing = held.get(name);
      if (stopRenewing) {
        stopRenewing();
        held.delete(name);
        await leases.release(name).catch(() => undefined);
      }
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
      jobs.set(name, { intervalMs, run, counted: true });
    },
    enqueueEvery(name, intervalMs, enqueue) {
      jobs.set(name, { intervalMs, run: (runLog, intervalStart) => enqueue(intervalStart, runLog), counted: false });
    },
    runNow: (name) => execute(name, true),
    start() {
      tick();
      timer = setInterval(tick, options.tickMs ?? tickFor([...jobs.values()].map((job) => job.intervalMs)));
      timer.unref();
    },
    async stop(graceMs = Infinity) {
      if (timer) clearInterval(timer);
      let graceTimer: NodeJS.Timeout | undefined;
      const grace = Number.isFinite(graceMs) ? new Promise((resolve) => (graceTimer = setTimeout(resolve, graceMs))) : new Promise(() => undefined);
      await Promise.race([Promise.allSettled([...running]), grace]);
      clearTimeout(graceTimer);
      const unfinished = [...held.keys()];
      for (const stopRenewing of held.values()) stopRenewing();
      held.clear();
      if (unfinished.length > 0) log.warn({ jobs: unfinished }, 'shutting down: leases of unfinished jobs given up');
      await Promise.allSettled(unfinished.map((name) => leases.abandon(name)));
    },
  };
}
