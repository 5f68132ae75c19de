import type { Db } from '../db/database';
import type { ConsentLinksTable } from '../db/tables';

export type ConsentLinkRow = ConsentLinksTable;

export type ConsentLinkStore = ReturnType<typeof createConsentLinkStore>;

/** The consent_links table (migration 010). Every partner-facing query is scoped to the partner. */
export function createConsentLinkStore(db: Db) {
  return {
    insert: (row: ConsentLinkRow) => db.insertInto('consent_links').values(row).execute(),

    list: (partnerId: string) => db.selectFrom('consent_links').selectAll().where('partner_id', '=', partnerId).orderBy('created_at', 'desc').limit(200).execute(),

    get: (partnerId: string, id: string) => db.selectFrom('consent_links').selectAll().where('partner_id', '=', partnerId).where('id', '=', id).executeTakeFirst(),

    /** The link behind a token (the public page): by the token's hash, with its partner's name. */
    byTokenHash: (tokenHash: string) =>
      db.selectFrom('consent_links as l').innerJoin('partners as p', 'p.id', 'l.partner_id').selectAll('l').select('p.name as partner_name').where('l.token_hash', '=', tokenHash).executeTakeFirst(),

    partnerName: async (partnerId: string) => (await db.selectFrom('partners').select('name').where('id', '=', partnerId).executeTakeFirst())?.name ?? null,

    /** The link a round trip was started from; only the partner it names is ever acted for. */
    byId: (id: string) => db.selectFrom('consent_links').selectAll().where('id', '=', id).executeTakeFirst(),

    async revoke(partnerId: string, id: string, now: string): Promise<boolean> {
      const res = await db.updateTable('consent_links').set({ revoked_at: now }).where('partner_id', '=', partnerId).where('id', '=', id).where('used_at', 'is', null).where('revoked_at', 'is', null).executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },

    /** Remembers which browser went to Microsoft from the link (only it reads the outcome). */
    setVisit: (id: string, bindingHash: string) => db.updateTable('consent_links').set({ visit_binding: bindingHash }).where('id', '=', id).execute(),

    /** Takes the link for one finishing round trip: only a link still waiting, once. */
    async claim(id: string, now: string): Promise<boolean> {
      const res = await db.updateTable('consent_links').set({ used_at: now }).where('id', '=', id).where('used_at', 'is', null).where('revoked_at', 'is', null).where('expires_at', '>', now).executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },

    /** Links that expired unused and unrevoked between the two moments. */
    expiredUnused: (since: string, until: string) =>
      db.selectFrom('consent_links').selectAll().where('expires_at', '>', since).where('expires_at', '<=', until).where('used_at', 'is', null).where('revoked_at', 'is', null).limit(1000).execute(),

    /** Records the outcome; a refused attempt gives the link back so the Global Administrator can try again. */
    settle: (id: string, outcome: string, profileId: string | null, keepUsed: boolean) =>
      db
        .updateTable('consent_links')
        .set({ outcome, outcome_profile_id: profileId, ...(keepUsed ? {} : { used_at: null }) })
        .where('id', '=', id)
        .execute(),
  };
}
