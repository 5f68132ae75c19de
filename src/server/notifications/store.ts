import { sql } from 'kysely';
import type { Db } from '../db/database';
import type { NotificationsTable } from '../db/tables';

export type NotificationRow = NotificationsTable;
export interface NotificationListRow extends NotificationRow {
  read_at: string | null;
}

export type NotificationStore = ReturnType<typeof createNotificationStore>;

export interface ListQuery {
  unread?: boolean;
  limit: number;
  after?: { at: string; id: string } | null;
}

/** The partner's notifications shown in the portal, with this person's read time. */
const visibleTo = (db: Db, partnerId: string, userId: string) =>
  db
    .selectFrom('notifications as n')
    .leftJoin('notification_reads as r', (j) => j.onRef('r.notification_id', '=', 'n.id').on('r.user_id', '=', userId))
    .where('n.partner_id', '=', partnerId)
    .where('n.in_portal', '=', 1);

/**
 * A profile's alerts that may still be open, newest first: each whose condition's episode is still open
 * (expired, permission drift, checks or sync failing, a group download failed), and its lapse warnings
 * (one-shot: the service keeps the one of the current refresh).
 */
const openForProfile = (visible: ReturnType<typeof visibleTo>, appProfileId: string): Promise<NotificationListRow[]> =>
  visible
    .selectAll('n')
    .select('r.read_at')
    .where('n.app_profile_id', '=', appProfileId)
    .where((eb) =>
      eb.or([
        eb('n.type', '=', 'refresh_lapse_warning'),
        eb.exists(
          eb
            .selectFrom('notification_conditions as c')
            .select('c.condition')
            .whereRef('c.partner_id', '=', 'n.partner_id')
            .where('c.open', '=', 1)
            .where(sql<boolean>`${sql.ref('n.key')} = ${sql.ref('c.condition')} || ':' || cast(${sql.ref('c.episode')} as text)`),
        ),
      ]),
    )
    .orderBy('n.created_at', 'desc')
    .orderBy('n.id', 'desc')
    .limit(50)
    .execute();

/** The notification tables of migration 011 (their only writer). Every query is scoped to the partner. */
export function createNotificationStore(db: Db) {
  const visible = (partnerId: string, userId: string) => visibleTo(db, partnerId, userId);

  return {
    /** Opens an episode of a condition; answers its number, or null while one is open already. */
    async openEpisode(partnerId: string, condition: string, at: string): Promise<number | null> {
      const inserted = await db
        .insertInto('notification_conditions')
        .values({ partner_id: partnerId, condition, episode: 1, open: 1, updated_at: at })
        .onConflict((oc) => oc.columns(['partner_id', 'condition']).doNothing())
        .returning('episode')
        .executeTakeFirst();
      if (inserted) return inserted.episode;
      const reopened = await db
        .updateTable('notification_conditions')
        .set((eb) => ({ episode: eb('episode', '+', 1), open: 1, updated_at: at }))
        .where('partner_id', '=', partnerId)
        .where('condition', '=', condition)
        .where('open', '=', 0)
        .returning('episode')
        .executeTakeFirst();
      return reopened?.episode ?? null;
    },

    /** Closes the open episode of a condition; answers its number, or null when none was open. */
    async closeEpisode(partnerId: string, condition: string, at: string): Promise<number | null> {
      const closed = await db
        .updateTable('notification_conditions')
        .set({ open: 0, updated_at: at })
        .where('partner_id', '=', partnerId)
        .where('condition', '=', condition)
        .where('open', '=', 1)
        .returning('episode')
        .executeTakeFirst();
      return closed?.episode ?? null;
    },

    /** Stores a notification once per key; false when its key was stored before. */
    async insert(row: NotificationRow): Promise<boolean> {
      const res = await db.insertInto('notifications').values(row).onConflict((oc) => oc.columns(['partner_id', 'key']).doNothing()).executeTakeFirst();
      return Number(res.numInsertedOrUpdatedRows ?? 0) === 1;
    },

    /**
     * Removes notifications made before `before`, with their reads and delivery records (cascade); answers how
     * many. Episodes live in notification_conditions, so an alert that is still open is never raised again by it.
     */
    async deleteBefore(before: string): Promise<number> {
      const res = await db.deleteFrom('notifications').where('created_at', '<', before).executeTakeFirst();
      return Number(res.numDeletedRows);
    },

    /** One notification by id (for a channel's job, which names it). */
    get: (id: string): Promise<NotificationRow | undefined> => db.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirst(),

    async list(partnerId: string, userId: string, query: ListQuery): Promise<NotificationListRow[]> {
      let q = visible(partnerId, userId).selectAll('n').select('r.read_at');
      if (query.unread) q = q.where('r.read_at', 'is', null);
      const after = query.after;
      if (after) q = q.where((eb) => eb.or([eb('n.created_at', '<', after.at), eb.and([eb('n.created_at', '=', after.at), eb('n.id', '<', after.id)])]));
      return q.orderBy('n.created_at', 'desc').orderBy('n.id', 'desc').limit(query.limit).execute();
    },

    openForProfile: (partnerId: string, userId: string, appProfileId: string) => openForProfile(visible(partnerId, userId), appProfileId),

    async unreadCount(partnerId: string, userId: string): Promise<number> {
      const row = await visible(partnerId, userId).where('r.read_at', 'is', null).select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirst();
      return Number(row?.n ?? 0);
    },

    /** Marks the partner's notifications among `ids` as read by this person; others' ids are ignored. */
    async markRead(partnerId: string, userId: string, ids: string[], at: string): Promise<void> {
      if (ids.length === 0) return;
      const own = await db.selectFrom('notifications').select('id').where('partner_id', '=', partnerId).where('id', 'in', ids).execute();
      if (own.length === 0) return;
      await db
        .insertInto('notification_reads')
        .values(own.map((n) => ({ notification_id: n.id, user_id: userId, partner_id: partnerId, read_at: at })))
        .onConflict((oc) => oc.columns(['notification_id', 'user_id']).doNothing())
        .execute();
    },

    async settings(partnerId: string): Promise<{ portal: boolean; email: boolean }> {
      const row = await db.selectFrom('notification_settings').selectAll().where('partner_id', '=', partnerId).executeTakeFirst();
      return { portal: row ? row.portal_enabled === 1 : true, email: row ? row.email_enabled === 1 : true };
    },

    saveSettings: (partnerId: string, channels: { portal: boolean; email: boolean }, at: string) => {
      const values = { portal_enabled: channels.portal ? 1 : 0, email_enabled: channels.email ? 1 : 0, updated_at: at };
      return db
        .insertInto('notification_settings')
        .values({ partner_id: partnerId, ...values })
        .onConflict((oc) => oc.column('partner_id').doUpdateSet(values))
        .execute();
    },

    async emailOptedOut(partnerId: string, userIds: string[]): Promise<Set<string>> {
      if (userIds.length === 0) return new Set();
      const rows = await db.selectFrom('notification_email_optouts').select('user_id').where('partner_id', '=', partnerId).where('user_id', 'in', userIds).execute();
      return new Set(rows.map((r) => r.user_id));
    },

    async setEmailOptOut(partnerId: string, userId: string, optOut: boolean, at: string): Promise<void> {
      if (optOut) {
        await db.insertInto('notification_email_optouts').values({ user_id: userId, partner_id: partnerId, created_at: at }).onConflict((oc) => oc.column('user_id').doNothing()).execute();
      } else {
        await db.deleteFrom('notification_email_optouts').where('partner_id', '=', partnerId).where('user_id', '=', userId).execute();
      }
    },

    /** Takes the delivery of a notification to one recipient on one channel; false when it was taken before. */
    async claimDelivery(row: { notificationId: string; partnerId: string; channel: string; recipient: string }, at: string): Promise<boolean> {
      const res = await db
        .insertInto('notification_deliveries')
        .values({ notification_id: row.notificationId, partner_id: row.partnerId, channel: row.channel, recipient: row.recipient, status: 'sending', detail: null, created_at: at })
        .onConflict((oc) => oc.columns(['notification_id', 'channel', 'recipient']).doNothing())
        .executeTakeFirst();
      return Number(res.numInsertedOrUpdatedRows ?? 0) === 1;
    },

    settleDelivery: (row: { notificationId: string; channel: string; recipient: string }, status: 'sent' | 'failed', detail: string | null) =>
      db
        .updateTable('notification_deliveries')
        .set({ status, detail: detail?.slice(0, 300) ?? null })
        .where('notification_id', '=', row.notificationId)
        .where('channel', '=', row.channel)
        .where('recipient', '=', row.recipient)
        .execute(),
  };
}
