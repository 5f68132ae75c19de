import type { Db } from '../db/database';
import type { WebhookDeliveriesTable, WebhooksTable } from '../db/tables';

export type WebhookRow = WebhooksTable;
export type WebhookDeliveryRow = WebhookDeliveriesTable;
export type WebhookStore = ReturnType<typeof createWebhookStore>;

/** The webhook tables of migration 014 (their only writer). Every query of the API is scoped to the partner. */
export function createWebhookStore(db: Db) {
  return {
    insert: (row: WebhookRow) => db.insertInto('webhooks').values(row).execute(),

    list: (partnerId: string) => db.selectFrom('webhooks').selectAll().where('partner_id', '=', partnerId).orderBy('created_at').orderBy('id').execute(),

    get: (partnerId: string, id: string) => db.selectFrom('webhooks').selectAll().where('partner_id', '=', partnerId).where('id', '=', id).executeTakeFirst(),

    /** A webhook by id alone, for a delivery job (which was enqueued for its partner). */
    byId: (id: string) => db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst(),

    async count(partnerId: string): Promise<number> {
      const row = await db.selectFrom('webhooks').select((eb) => eb.fn.countAll<string | number>().as('n')).where('partner_id', '=', partnerId).executeTakeFirst();
      return Number(row?.n ?? 0);
    },

    enabled: (partnerId: string) => db.selectFrom('webhooks').select(['id', 'url']).where('partner_id', '=', partnerId).where('enabled', '=', 1).orderBy('created_at').execute(),

    update: (partnerId: string, id: string, changes: Partial<Pick<WebhookRow, 'url' | 'enabled'>>, at: string) =>
      db.updateTable('webhooks').set({ ...changes, updated_at: at }).where('partner_id', '=', partnerId).where('id', '=', id).execute(),

    async remove(partnerId: string, id: string): Promise<boolean> {
      const res = await db.deleteFrom('webhooks').where('partner_id', '=', partnerId).where('id', '=', id).executeTakeFirst();
      return Number(res.numDeletedRows) === 1;
    },

    addDelivery: (row: WebhookDeliveryRow) => db.insertInto('webhook_deliveries').values({ ...row, error: row.error?.slice(0, 500) ?? null }).execute(),

    /** Removes the delivery records made before `before` (the history kept is bounded); answers how many. */
    async deleteDeliveriesBefore(before: string): Promise<number> {
      const res = await db.deleteFrom('webhook_deliveries').where('at', '<', before).executeTakeFirst();
      return Number(res.numDeletedRows);
    },

    deliveries: (partnerId: string, webhookId: string, limit: number) =>
      db.selectFrom('webhook_deliveries').selectAll().where('partner_id', '=', partnerId).where('webhook_id', '=', webhookId).orderBy('at', 'desc').orderBy('attempt', 'desc').limit(limit).execute(),
  };
}
