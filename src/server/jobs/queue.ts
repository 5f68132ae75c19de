import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db, Engine } from '../db/database';
import type { JobsTable } from '../db/tables';

/** A claimed job, JSON columns parsed. */
export interface ClaimedJob<P = unknown, C = unknown> {
  id: string;
  kind: string;
  partnerId: string | null;
  key: string;
  payload: P;
  attempts: number;
  maxAttempts: number;
  checkpoint: C | null;
}

export interface EnqueueInput {
  kind: string;
  /** Unique across the queue: a second enqueue with the same key joins the job instead of adding one. */
  key: string;
  partnerId?: string | null;
  payload?: unknown;
  maxAttempts?: number;
  /**
   * A job with this key that finished (done or failed) starts afresh; one waiting to retry runs at once.
   * Without it, enqueueing a key that exists changes nothing.
   */
  restart?: boolean;
}

export type JobQueue = ReturnType<typeof createJobQueue>;

const DEFAULT_MAX_ATTEMPTS = 5;
const BACKOFF_BASE_MS = 5_000;
const BACKOFF_CAP_MS = 30 * 60_000;

/**
 * How long a job waits before its next attempt after `attempts` failed ones: exponential from 5 s, capped at
 * 30 minutes, with "full jitter" (a random point in the upper half) so that jobs failed together do not
 * retry together.
 */
export function backoffMs(attempts: number, random: () => number = Math.random, baseMs = BACKOFF_BASE_MS, capMs = BACKOFF_CAP_MS): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

const toJob = (row: JobsTable): ClaimedJob => ({
  id: row.id,
  kind: row.kind,
  partnerId: row.partner_id,
  key: row.key,
  payload: JSON.parse(row.payload) as unknown,
  attempts: row.attempts,
  maxAttempts: row.max_attempts,
  checkpoint: row.checkpoint === null ? null : (JSON.parse(row.checkpoint) as unknown),
});

/**
 * The durable job queue over the `jobs` table (the only module that writes it), the same SQL on both engines.
 * A claim is one UPDATE of the first due row (on PostgreSQL picked `FOR UPDATE SKIP LOCKED`, so instances do
 * not wait on each other; SQLite has one writer), so each job runs on one worker at a time. A worker holds a
 * job under a lease it renews; a job whose worker died is claimed again once the lease lapsed, and goes on
 * from its last checkpoint. Every write of a running job names its lease owner: a worker that lost its lease
 * changes nothing.
 */
export function createJobQueue(db: Db, engine: Engine, owner: string = randomUUID()) {
  const now = () => new Date().toISOString();

  return {
    owner,

    /** Adds a job, or joins the one with the same key; answers its id and whether it was added. */
    async enqueue(input: EnqueueInput): Promise<{ id: string; added: boolean }> {
      const at = now();
      const id = randomUUID();
      const payload = JSON.stringify(input.payload ?? {});
      const inserted = await db
        .insertInto('jobs')
        .values({
          id,
          kind: input.kind,
          partner_id: input.partnerId ?? null,
          key: input.key,
          payload,
          state: 'queued',
          attempts: 0,
          max_attempts: input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
          run_after: at,
          created_at: at,
          updated_at: at,
        })
        .onConflict((oc) => oc.column('key').doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return { id, added: true };
      if (input.restart) {
        await db
          .updateTable('jobs')
          .set({ state: 'queued', attempts: 0, checkpoint: null, last_error: null, payload, run_after: at, lease_owner: null, lease_until: null, updated_at: at })
          .where('key', '=', input.key)
          .where('state', 'in', ['done', 'failed'])
          .execute();
        await db.updateTable('jobs').set({ run_after: at, updated_at: at }).where('key', '=', input.key).where('state', '=', 'queued').execute();
      }
      const row = await db.selectFrom('jobs').select('id').where('key', '=', input.key).executeTakeFirstOrThrow();
      return { id: row.id, added: false };
    },

    /**
     * Takes the first due job of these kinds (queued and due, or running under a lapsed lease) for `leaseMs`,
     * counting an attempt; `id` takes that job only. Undefined when none is due.
     */
    async claim(kinds: readonly string[], leaseMs: number, options: { id?: string } = {}): Promise<ClaimedJob | undefined> {
      if (kinds.length === 0) return undefined;
      const at = now();
      let due = db
        .selectFrom('jobs')
        .select('id')
        .where('kind', 'in', kinds)
        .where((eb) => eb.or([eb.and([eb('state', '=', 'queued'), eb('run_after', '<=', at)]), eb.and([eb('state', '=', 'running'), eb('lease_until', '<', at)])]))
        .orderBy('run_after')
        .limit(1);
      if (options.id) due = due.where('id', '=', options.id);
      if (engine === 'postgres') due = due.forUpdate().skipLocked();
      const row = await db
        .updateTable('jobs')
        .set({ state: 'running', lease_owner: owner, lease_until: new Date(Date.now() + leaseMs).toISOString(), attempts: sql<number>`attempts + 1`, updated_at: at })
        .where('id', '=', due)
        .returningAll()
        .executeTakeFirst();
      return row ? toJob(row) : undefined;
    },

    /** Extends the lease of a job this worker holds; false when the lease was lost (another worker may run it). */
    async heartbeat(id: string, leaseMs: number): Promise<boolean> {
      const result = await db
        .updateTable('jobs')
        .set({ lease_until: new Date(Date.now() + leaseMs).toISOString(), updated_at: now() })
        .where('id', '=', id)
        .where('state', '=', 'running')
        .where('lease_owner', '=', owner)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** Records how far a running job got (and extends its lease); false when the lease was lost. */
    async checkpoint(id: string, checkpoint: unknown, leaseMs: number): Promise<boolean> {
      const result = await db
        .updateTable('jobs')
        .set({ checkpoint: JSON.stringify(checkpoint), lease_until: new Date(Date.now() + leaseMs).toISOString(), updated_at: now() })
        .where('id', '=', id)
        .where('state', '=', 'running')
        .where('lease_owner', '=', owner)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** The job is done; `erasePayload` blanks a payload that held a secret. */
    async complete(id: string, options: { erasePayload?: boolean } = {}): Promise<void> {
      await db
        .updateTable('jobs')
        .set({ state: 'done', lease_owner: null, lease_until: null, last_error: null, checkpoint: null, updated_at: now(), ...(options.erasePayload ? { payload: '{}' } : {}) })
        .where('id', '=', id)
        .where('lease_owner', '=', owner)
        .execute();
    },

    /**
     * An attempt failed: the job waits `backoffMs` and is tried again (from its checkpoint), or, after its last
     * attempt or when `permanent`, it fails for good (`erasePayload` then blanks its payload). Answers when it
     * runs again, or null.
     */
    async fail(job: Pick<ClaimedJob, 'id' | 'attempts' | 'maxAttempts'>, error: unknown, options: { permanent?: boolean; random?: () => number; erasePayload?: boolean } = {}): Promise<{ retryAt: string | null }> {
      const message = (error instanceof Error ? error.message : String(error)).slice(0, 1000);
      const final = options.permanent || job.attempts >= job.maxAttempts;
      const retryAt = final ? null : new Date(Date.now() + backoffMs(job.attempts, options.random)).toISOString();
      await db
        .updateTable('jobs')
        .set({ state: final ? 'failed' : 'queued', run_after: retryAt ?? now(), lease_owner: null, lease_until: null, last_error: message, updated_at: now(), ...(final && options.erasePayload ? { payload: '{}' } : {}) })
        .where('id', '=', job.id)
        .where('lease_owner', '=', owner)
        .execute();
      return { retryAt };
    },

    /** Gives a running job back (shutdown): queued and due at once, its attempt not counted, its checkpoint kept. */
    async release(id: string): Promise<void> {
      await db
        .updateTable('jobs')
        .set({ state: 'queued', run_after: now(), lease_owner: null, lease_until: null, attempts: sql<number>`attempts - 1`, updated_at: now() })
        .where('id', '=', id)
        .where('state', '=', 'running')
        .where('lease_owner', '=', owner)
        .execute();
    },

    get: (id: string) => db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst(),
    /** Whether a job of this kind is queued or running (a recurring job's next interval waits for it). */
    async hasUnfinished(kind: string): Promise<boolean> {
      const row = await db.selectFrom('jobs').select('id').where('kind', '=', kind).where('state', 'in', ['queued', 'running']).limit(1).executeTakeFirst();
      return row !== undefined;
    },
    /** The most recently added job of this kind (a recurring job's current or last interval). */
    latest: (kind: string) => db.selectFrom('jobs').selectAll().where('kind', '=', kind).orderBy('created_at', 'desc').orderBy('id').limit(1).executeTakeFirst(),
    /** Removes jobs of these kinds that finished (done or failed) before `before`; answers how many. */
    async purgeFinished(kinds: readonly string[], before: string): Promise<number> {
      const result = await db.deleteFrom('jobs').where('kind', 'in', kinds).where('state', 'in', ['done', 'failed']).where('updated_at', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    /** The jobs with these keys (any state), for showing a partner's background work. */
    byKeys: (keys: readonly string[]) => (keys.length === 0 ? Promise.resolve([]) : db.selectFrom('jobs').selectAll().where('key', 'in', keys).execute()),
  };
}
