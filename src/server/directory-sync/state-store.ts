import { randomUUID } from 'node:crypto';
import type { Db } from '../db/database';

export type SyncResource = 'users' | 'groups';

/** The delta links of the directory sync, one per profile and resource: the only writer of `directory_sync_state`. */
export function createSyncStateStore(db: Db) {
  return {
    async deltaLink(profileId: string, resource: SyncResource): Promise<string | null> {
      const state = await db.selectFrom('directory_sync_state').select('delta_link').where('app_profile_id', '=', profileId).where('resource', '=', resource).executeTakeFirst();
      return state?.delta_link ?? null;
    },

    /** When the profile's sync last completed for every resource it keeps (the oldest of its delta links), or null. */
    async lastCompletedAt(profileId: string): Promise<string | null> {
      const row = await db.selectFrom('directory_sync_state').select((eb) => eb.fn.min('updated_at').as('at')).where('app_profile_id', '=', profileId).executeTakeFirst();
      return (row?.at as string | null | undefined) ?? null;
    },

    async storeDeltaLink(partnerId: string, profileId: string, resource: SyncResource, link: string): Promise<void> {
      const now = new Date().toISOString();
      const updated = await db.updateTable('directory_sync_state').set({ delta_link: link, updated_at: now }).where('app_profile_id', '=', profileId).where('resource', '=', resource).executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 1) return;
      await db
        .insertInto('directory_sync_state')
        .values({ id: randomUUID(), partner_id: partnerId, app_profile_id: profileId, resource, delta_link: link, updated_at: now })
        .onConflict((oc) => oc.columns(['app_profile_id', 'resource']).doUpdateSet({ delta_link: link, updated_at: now }))
        .execute();
    },
  };
}
