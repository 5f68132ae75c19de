import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HISTORY_KEPT_MS, trimHistory } from '../../src/server/jobs/background';
import { signUpPartner } from '../support/api-client';
import { testEngines } from '../support/engines';
import { startTestPortal, type TestPortal } from '../support/portal';

const DAY = 24 * 3600_000;

/** The bell's notifications and the webhook delivery records are recent history: kept for a bounded time. */
describe.each(testEngines())('history retention on %s', (engine) => {
  let portal: TestPortal;
  beforeAll(async () => {
    portal = await startTestPortal(engine, {}, { backgroundJobs: false });
  });
  afterAll(async () => {
    await portal?.close();
  });

  it('removes notifications (with their reads) and webhook deliveries past their keeping time, and keeps the recent ones', async () => {
    const { partnerId, userId } = await signUpPartner(portal.url);
    const db = portal.services.db;
    const now = new Date();
    const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();
    const notification = (id: string, createdAt: string) => ({ id, partner_id: partnerId, key: `test:${id}`, type: 'test', severity: 'info' as const, app_profile_id: null, title: id, message: id, fix: null, link: null, data: null, in_portal: 1, created_at: createdAt });
    await db
      .insertInto('notifications')
      .values([notification('n-old', ago(HISTORY_KEPT_MS.notifications + DAY)), notification('n-recent', ago(HISTORY_KEPT_MS.notifications - DAY))])
      .execute();
    await db.insertInto('notification_reads').values(['n-old', 'n-recent'].map((id) => ({ notification_id: id, user_id: userId, partner_id: partnerId, read_at: ago(0) }))).execute();
    await db.insertInto('webhooks').values({ id: 'w1', partner_id: partnerId, url: 'https://hooks.example.com/tg', secret_sealed: 'v1.x', enabled: 1, created_at: ago(0), updated_at: ago(0) }).execute();
    const delivery = (id: string, at: string) => ({ id, webhook_id: 'w1', partner_id: partnerId, event_id: id, event_type: 'test', attempt: 1, status_code: 200, error: null, at });
    await db
      .insertInto('webhook_deliveries')
      .values([delivery('d-old', ago(HISTORY_KEPT_MS.webhookDeliveries + DAY)), delivery('d-recent', ago(HISTORY_KEPT_MS.webhookDeliveries - DAY))])
      .execute();

    expect(await trimHistory(portal.services, now)).toEqual({ notifications: 1, webhookDeliveries: 1 });
    expect((await db.selectFrom('notifications').select('id').where('partner_id', '=', partnerId).execute()).map((r) => r.id)).toEqual(['n-recent']);
    expect((await db.selectFrom('notification_reads').select('notification_id').where('partner_id', '=', partnerId).execute()).map((r) => r.notification_id)).toEqual(['n-recent']);
    expect((await db.selectFrom('webhook_deliveries').select('id').where('partner_id', '=', partnerId).execute()).map((r) => r.id)).toEqual(['d-recent']);
    // Nothing more to remove: a second run changes nothing.
    expect(await trimHistory(portal.services, now)).toEqual({ notifications: 0, webhookDeliveries: 0 });
  });
});
