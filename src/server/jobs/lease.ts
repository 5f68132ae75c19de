import { randomUUID } from 'node:crypto';
import type { Db } from '../db/database';

export interface ClaimOptions {
  /** How long the lease holds if its holder dies without releasing it (a running holder renews it). */
  leaseMs: number;
  /** Claim only when the last run started at least this long ago, or was abandoned (recurring jobs). */
  dueAfterMs?: number;
}

/**
 * Named leases in `job_leases` (the only module that writes that table). A claim is one conditional
 * UPDATE, atomic on both engines, so of several instances sharing one database exactly one wins.
 * A lease that lapsed while it still names a holder marks a run that never finished (its instance was
 * killed): that job is due at once, whenever it last started.
 */
export function createLeases(db: Db, holder: string = randomUUID()) {
  const known = new Set<string>();

  /** Extends a lease this holder still has; false when it lapsed and another instance may have taken it. */
  async function renew(name: string, leaseMs: number): Promise<boolean> {
    const result = await db
      .updateTable('job_leases')
      .set({ lease_until: new Date(Date.now() + leaseMs).toISOString() })
      .where('name', '=', name)
      .where('holder', '=', holder)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  return {
    holder,

    async claim(name: string, options: ClaimOptions): Promise<boolean> {
      if (!known.has(name)) {
        await db.insertInto('job_leases').values({ name, holder: null, lease_until: new Date(0).toISOString(), last_run_at: null }).onConflict((oc) => oc.column('name').doNothing()).execute();
        known.add(name);
      }
      const now = new Date();
      const nowIso = now.toISOString();
      let claim = db
        .updateTable('job_leases')
        .set({ holder, lease_until: new Date(now.getTime() + options.leaseMs).toISOString(), last_run_at: nowIso })
        .where('name', '=', name)
        .where('lease_until', '<', nowIso);
      if (options.dueAfterMs !== undefined) {
        const dueBefore = new Date(now.getTime() - options.dueAfterMs).toISOString();
        claim = claim.where((eb) => eb.or([eb('last_run_at', 'is', null), eb('last_run_at', '<', dueBefore), eb('holder', 'is not', null)]));
      }
      const result = await claim.executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /**
     * Keeps a lease this holder claimed from lapsing while its work runs: renewed every third of `leaseMs`, so
     * if this process dies the lease lapses within `leaseMs` and the work is taken up again. `onLost` hears of a
     * renewal that found the lease gone or failed. Answers the function that stops renewing.
     */
    keep(name: string, leaseMs: number, onLost: (error?: unknown) => void = () => undefined): () => void {
      const timer = setInterval(() => {
        renew(name, leaseMs).then((kept) => kept || onLost(), onLost);
      }, leaseMs / 3);
      timer.unref();
      return () => clearInterval(timer);
    },

    /** When the job last started and whether an instance holds it now (for showing its schedule); undefined before its first run. */
    async peek(name: string): Promise<{ lastRunAt: string | null; running: boolean } | undefined> {
      const row = await db.selectFrom('job_leases').select(['holder', 'lease_until', 'last_run_at']).where('name', '=', name).executeTakeFirst();
      return row && { lastRunAt: row.last_run_at, running: row.holder !== null && row.lease_until > new Date().toISOString() };
    },

    /** The run finished: the job is next due an interval after it started. */
    async release(name: string): Promise<void> {
      await db.updateTable('job_leases').set({ holder: null, lease_until: new Date(0).toISOString() }).where('name', '=', name).where('holder', '=', holder).execute();
    },

    /** The run did not finish (shutdown): released and due at once, so another instance runs the job at its next tick. */
    async abandon(name: string): Promise<void> {
      await db.updateTable('job_leases').set({ holder: null, lease_until: new Date(0).toISOString(), last_run_at: null }).where('name', '=', name).where('holder', '=', holder).execute();
    },
  };
}
