import { randomUUID } from 'node:crypto';
import type { Metrics } from '../metrics/index';
import type { ClaimedJob, JobQueue } from './queue';

/** The part of the portal's logger (pino) the worker and its handlers use. */
export interface WorkerLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
  child(bindings: object): WorkerLog;
}

const silentLog: WorkerLog = { info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silentLog };

/** What a handler gets besides its job: a way to record progress, and a signal that it should stop. */
export interface JobContext<C> {
  /** Stores how far the job got (it resumes from there after a crash); throws LeaseLostError when another worker took the job. */
  checkpoint(data: C): Promise<void>;
  /** Aborted when the lease was lost or the worker stops: the handler should end soon, its checkpoint kept. */
  signal: AbortSignal;
  log: WorkerLog;
}

export type JobHandler<P = unknown, C = unknown> = (job: ClaimedJob<P, C>, context: JobContext<C>) => Promise<void>;

/** The worker no longer holds the job's lease: it stops without completing or failing it. */
export class LeaseLostError extends Error {
  constructor() {
    super('The job’s lease was lost; another worker may run it.');
  }
}

/** A failure that retrying cannot fix (the job's subject is gone): the job fails at once. */
export class PermanentJobError extends Error {}

export type JobOutcome = { state: 'done' } | { state: 'queued'; error: unknown; retryAt: string } | { state: 'failed'; error: unknown } | { state: 'released' };

export interface QueueWorker {
  /** `erasePayload`: the payload holds a secret (a sealed link), blanked once the job is done or failed for good. */
  handle<P, C>(kind: string, handler: JobHandler<P, C>, options?: { erasePayload?: boolean }): void;
  /** Runs one given job here now if it is due and no worker holds it; undefined otherwise. */
  runJob(id: string): Promise<JobOutcome | undefined>;
  /** Looks for due jobs at once (after an enqueue) instead of at the next poll. */
  wake(): void;
  /** Polls for due jobs until stopped; logs to `log` from then on. */
  start(log: WorkerLog): void;
  /**
   * Stops claiming, signals running handlers to stop and waits up to `graceMs` for them; jobs still running then
   * are given back (queued, due at once, checkpoint kept), so another instance goes on without waiting for the lease.
   */
  stop(graceMs?: number): Promise<void>;
}

const POLL_MS = 1_000;

/**
 * Runs the queue's jobs: polls for due jobs of the kinds it handles, at most `concurrency` at a time, renews
 * each job's lease every third of `leaseMs` while its handler runs, and completes or fails it after.
 */
export function createQueueWorker(queue: JobQueue, options: { leaseMs: number; pollMs?: number; concurrency?: number; metrics?: Pick<Metrics, 'jobRun'> }): QueueWorker {
  const handlers = new Map<string, { run: JobHandler; erasePayload: boolean }>();
  const running = new Map<string, { controller: AbortController; done: Promise<JobOutcome> }>();
  const concurrency = options.concurrency ?? 4;
  let timer: NodeJS.Timeout | undefined;
  let stopping = false;
  let polling = false;
  let log = silentLog;

  async function execute(job: ClaimedJob, controller: AbortController): Promise<JobOutcome> {
    const { run: handler, erasePayload } = handlers.get(job.kind)!;
    // Every line an attempt logs names its job kind and run (as the recurring jobs' lines do), the job and the attempt.
    const jobLog = log.child({ job: job.kind, jobRunId: randomUUID(), jobId: job.id, attempt: job.attempts });
    const startedAt = performance.now();
    const measure = (outcome: 'success' | 'failure') => options.metrics?.jobRun(job.kind, outcome, (performance.now() - startedAt) / 1000);
    let lost = false;
    const loseLease = () => {
      lost = true;
      controller.abort(new LeaseLostError());
    };
    const heartbeat = setInterval(() => {
      queue.heartbeat(job.id, options.leaseMs).then(
        (kept) => kept || loseLease(),
        (error: unknown) => jobLog.warn({ err: error }, 'job lease renewal failed'),
      );
    }, options.leaseMs / 3);
    heartbeat.unref();
    const context: JobContext<unknown> = {
      signal: controller.signal,
      log: jobLog,
      async checkpoint(data) {
        if (!(await queue.checkpoint(job.id, data, options.leaseMs))) {
          loseLease();
          throw new LeaseLostError();
        }
      },
    };
    try {
      await handler(job, context);
      if (lost) return { state: 'released' };
      await queue.complete(job.id, { erasePayload });
      measure('success');
      return { state: 'done' };
    } catch (error) {
      if (lost || error instanceof LeaseLostError) return { state: 'released' };
      if (stopping && controller.signal.aborted) {
        await queue.release(job.id);
        return { state: 'released' };
      }
      measure('failure');
      const { retryAt } = await queue.fail(job, error, { permanent: error instanceof PermanentJobError, erasePayload });
      jobLog.warn({ err: error, retryAt }, retryAt ? 'job attempt failed; it will be retried' : 'job failed');
      return retryAt ? { state: 'queued', error, retryAt } : { state: 'failed', error };
    } finally {
      clearInterval(heartbeat);
    }
  }

  function track(job: ClaimedJob): Promise<JobOutcome> {
    const controller = new AbortController();
    const done = execute(job, controller).finally(() => running.delete(job.id));
    running.set(job.id, { controller, done });
    return done;
  }

  async function poll(): Promise<void> {
    if (polling || stopping) return;
    polling = true;
    try {
      while (!stopping && running.size < concurrency) {
        const job = await queue.claim([...handlers.keys()], options.leaseMs);
        if (!job) break;
        void track(job).catch((error: unknown) => log.error({ err: error, jobId: job.id }, 'job bookkeeping failed'));
      }
    } catch (error) {
      log.warn({ err: error }, 'could not claim jobs');
    } finally {
      polling = false;
    }
  }

  return {
    handle(kind, handler, handlerOptions) {
      handlers.set(kind, { run: handler as JobHandler, erasePayload: handlerOptions?.erasePayload ?? false });
    },
    async runJob(id) {
      const current = running.get(id);
      if (current) return current.done;
      if (stopping) return undefined;
      const job = await queue.claim([...handlers.keys()], options.leaseMs, { id });
      return job ? track(job) : undefined;
    },
    wake() {
      if (timer) void poll();
    },
    start(portalLog) {
      log = portalLog;
      timer = setInterval(() => void poll(), options.pollMs ?? POLL_MS);
      timer.unref();
      void poll();
    },
    async stop(graceMs = Infinity) {
      stopping = true;
      if (timer) clearInterval(timer);
      const all = [...running.values()];
      for (const r of all) r.controller.abort(new Error('The worker is stopping.'));
      let graceTimer: NodeJS.Timeout | undefined;
      const grace = Number.isFinite(graceMs) ? new Promise((resolve) => (graceTimer = setTimeout(resolve, graceMs))) : new Promise(() => undefined);
      await Promise.race([Promise.allSettled(all.map((r) => r.done)), grace]);
      clearTimeout(graceTimer);
      const unfinished = [...running.keys()];
      if (unfinished.length > 0) log.warn({ jobs: unfinished }, 'shutting down: unfinished jobs given back to the queue');
      await Promise.allSettled(unfinished.map((id) => queue.release(id)));
    },
  };
}
