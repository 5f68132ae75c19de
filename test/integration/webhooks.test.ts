import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, signUpPartner } from '../support/api-client';
import { insertLocalUser } from '../support/db-fixtures';
import { testEngines } from '../support/engines';
import { startTestPortal, type TestPortal } from '../support/portal';
import { freePort } from '../support/portal-process';
import { startWebhookReceiver } from '../support/webhook-receiver';

/** Issue 10, section 2: webhooks per partner, signed, delivered once through the durable queue, SSRF-guarded. */
describe.each(testEngines())('webhooks on %s', (engine) => {
  let portal: TestPortal;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  const logs: string[] = [];
  beforeAll(async () => {
    const logStream = new PassThrough();
    logStream.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')));
    receiver = await startWebhookReceiver({ status: (path) => (path === '/moved' ? { code: 302, headers: { location: '/elsewhere' } } : { code: 200 }) });
    portal = await startTestPortal(engine, { LOG_LEVEL: 'info' }, { logStream, backgroundJobs: true });
  });
  afterAll(async () => {
    await portal?.close();
    await receiver?.close();
  });

  const db = () => portal.services.db;
  const event = (partnerId: string, key: string) =>
    portal.services.notifications.notify({
      partnerId,
      type: 'profile_expired',
      severity: 'error',
      key,
      appProfileId: 'p1',
      title: `Alert ${key}`,
      message: 'm',
      fix: 'f',
      data: { appProfile: { id: 'p1', name: 'Contoso', tenantId: 't1' }, code: 'AADSTS50173' },
    });
  const deliveries = async (client: ApiClient, id: string) => (await client.get(`/api/webhooks/${id}/deliveries`)).body.deliveries as { attempt: number; statusCode: number | null; error: string | null; eventId: string }[];

  it('answers the secret once, keeps it sealed, and delivers each event once, signed, with the payload of the issue', async () => {
    const { client, partnerId } = await signUpPartner(portal.url, 'Hook Partner');
    const created = await client.post('/api/webhooks', { url: `${receiver.url}/hook` });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const secret = created.body.secret as string;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    receiver.useSecret(secret);
    const list = await client.get('/api/webhooks');
    expect(list.body).toEqual({ webhooks: [{ id: created.body.id, url: `${receiver.url}/hook`, enabled: true, createdAt: expect.any(String), updatedAt: expect.any(String) }] });
    const row = await db().selectFrom('webhooks').selectAll().where('id', '=', created.body.id).executeTakeFirstOrThrow();
    expect(row.secret_sealed).toMatch(/^v1\./);
    expect(row.secret_sealed).not.toContain(secret.slice(6));

    await event(partnerId, 'once');
    await event(partnerId, 'once'); // the same event again: nothing more
    await expect.poll(() => receiver.received.filter((r) => r.path === '/hook').length).toBe(1);
    const [got] = receiver.received.filter((r) => r.path === '/hook');
    expect(got.signatureValid).toBe(true);
    const payload = JSON.parse(got.body);
    expect(payload).toEqual({
      id: expect.any(String),
      type: 'profile_expired',
      occurredAt: expect.any(String),
      partnerId,
      appProfile: { id: 'p1', name: 'Contoso', tenantId: 't1' },
      data: expect.objectContaining({ title: 'Alert once', message: 'm', fix: 'f', code: 'AADSTS50173', severity: 'error' }),
    });
    expect(await deliveries(client, created.body.id)).toEqual([expect.objectContaining({ eventId: payload.id, attempt: 1, statusCode: 200, error: null })]);
    await new Promise((r) => setTimeout(r, 1_500)); // the worker polls: still once
    expect(receiver.received.filter((r) => r.path === '/hook')).toHaveLength(1);

    // Test event, on demand; then turned off, an event is not delivered; deleted, it is gone.
    const test = await client.post(`/api/webhooks/${created.body.id}/test`, {});
    expect(test.body).toMatchObject({ delivered: true, statusCode: 200, error: null });
    expect(JSON.parse(receiver.received.at(-1)!.body)).toMatchObject({ type: 'test', partnerId, appProfile: null });
    expect(receiver.received.at(-1)!.signatureValid).toBe(true);
    expect((await client.patch(`/api/webhooks/${created.body.id}`, { enabled: false })).body).toMatchObject({ enabled: false });
    await event(partnerId, 'while-off');
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.received.filter((r) => r.path === '/hook')).toHaveLength(2);

    // The secret is in no GET answer, log line, job, delivery row or audit entry.
    const answers = [list.body, (await client.get('/api/webhooks')).body, await deliveries(client, created.body.id), (await client.get('/api/audit')).body].map((b) => JSON.stringify(b));
    const stored = [
      await db().selectFrom('jobs').selectAll().execute(),
      await db().selectFrom('webhook_deliveries').selectAll().execute(),
      await db().selectFrom('audit_events').selectAll().execute(),
    ].map((rows) => JSON.stringify(rows));
    expect(logs.join('').length).toBeGreaterThan(0);
    for (const text of [...answers, ...stored, logs.join('')]) expect(text).not.toContain(secret.slice(6));
    expect((await client.delete(`/api/webhooks/${created.body.id}`)).status).toBe(204);
    expect((await client.get('/api/webhooks')).body.webhooks).toEqual([]);
  });

  it('retries with backoff while the receiver is down, then delivers once', async () => {
    const { client, partnerId } = await signUpPartner(portal.url, 'Down Partner');
    const port = await freePort();
    const created = await client.post('/api/webhooks', { url: `http://127.0.0.1:${port}/late` });
    expect(created.status).toBe(201);
    await event(partnerId, 'late');
    await expect.poll(async () => (await deliveries(client, created.body.id)).length).toBe(1);
    expect((await deliveries(client, created.body.id))[0]).toMatchObject({ attempt: 1, statusCode: null, error: expect.stringMatching(/ECONNREFUSED/) });
    const job = await db().selectFrom('jobs').selectAll().where('kind', '=', 'webhook-delivery').where('partner_id', '=', partnerId).executeTakeFirstOrThrow();
    expect(job).toMatchObject({ state: 'queued', attempts: 1 });
    expect(Date.parse(job.run_after) - Date.parse(job.updated_at)).toBeGreaterThanOrEqual(2_000);

    const late = await startWebhookReceiver({ port });
    late.useSecret(created.body.secret);
    try {
      await expect.poll(() => late.received.length, { timeout: 15_000, interval: 100 }).toBe(1);
      expect(late.received[0].signatureValid).toBe(true);
      await expect.poll(async () => (await deliveries(client, created.body.id)).map((d) => [d.attempt, d.statusCode])).toEqual([
        [2, 200],
        [1, null],
      ]);
      await new Promise((r) => setTimeout(r, 1_500));
      expect(late.received).toHaveLength(1);
    } finally {
      await late.close();
    }
  }, 30_000);

  it('gives up after retrying for 24 hours from the event', async () => {
    const { client, partnerId } = await signUpPartner(portal.url, 'Gone Partner');
    const created = await client.post('/api/webhooks', { url: `http://127.0.0.1:${await freePort()}/gone` });
    await event(partnerId, 'gone');
    await expect.poll(async () => (await deliveries(client, created.body.id)).length).toBe(1);
    const job = await db().selectFrom('jobs').selectAll().where('kind', '=', 'webhook-delivery').where('partner_id', '=', partnerId).executeTakeFirstOrThrow();
    // The event happened 24 hours ago: the next failed attempt is the last.
    const payload = { ...JSON.parse(job.payload), firstAt: new Date(Date.now() - 24 * 3600_000 - 1000).toISOString() };
    await db().updateTable('jobs').set({ payload: JSON.stringify(payload), run_after: new Date(0).toISOString() }).where('id', '=', job.id).execute();
    const outcome = await portal.services.jobs.worker.runJob(job.id);
    expect(outcome).toMatchObject({ state: 'failed' });
    expect(await db().selectFrom('jobs').select(['state', 'last_error']).where('id', '=', job.id).executeTakeFirst()).toMatchObject({ state: 'failed', last_error: expect.stringMatching(/24 hours/) });
    expect((await deliveries(client, created.body.id)).map((d) => d.attempt)).toEqual([2, 1]);
  });

  it('follows no redirect: a 3xx is a failed delivery', async () => {
    const { client } = await signUpPartner(portal.url, 'Redirect Partner');
    const created = await client.post('/api/webhooks', { url: `${receiver.url}/moved` });
    receiver.useSecret(created.body.secret);
    const test = await client.post(`/api/webhooks/${created.body.id}/test`, {});
    expect(test.body).toMatchObject({ delivered: false, statusCode: 302, error: expect.stringMatching(/redirect/) });
    expect(receiver.received.filter((r) => r.path === '/elsewhere')).toEqual([]);
    expect(await deliveries(client, created.body.id)).toEqual([expect.objectContaining({ statusCode: 302 })]);
  });

  it('refuses URLs to private addresses and plain http beyond this machine, even in sandbox mode', async () => {
    const { client } = await signUpPartner(portal.url, 'SSRF Partner');
    for (const url of ['http://10.0.0.1/x', 'https://169.254.169.254/latest/meta-data', 'https://[::ffff:192.168.0.1]/x', 'https://[fd00::1]/x', 'ftp://127.0.0.1/x', 'http://user:pw@127.0.0.1/x']) {
      const res = await client.post('/api/webhooks', { url });
      expect(res.status, url).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'WEBHOOK_URL_REFUSED', details: { field: 'url' } });
    }
    const created = await client.post('/api/webhooks', { url: `${receiver.url}/hook` });
    expect((await client.patch(`/api/webhooks/${created.body.id}`, { url: 'https://100.64.0.1/x' })).status).toBe(400);
    expect((await client.get('/api/webhooks')).body.webhooks.map((w: { url: string }) => w.url)).toEqual([`${receiver.url}/hook`]);
  });

  it('is for Administrators only, and another partner can neither see nor change nor delete a webhook', async () => {
    const owner = await signUpPartner(portal.url, 'Owner Partner');
    const created = await owner.client.post('/api/webhooks', { url: `${receiver.url}/hook` });
    const email = `member-${Date.now()}@acme-partner.test`;
    await insertLocalUser(db(), owner.partnerId, { email, password: 'silver-forest-river-9', role: 'member' });
    const member = new ApiClient(portal.url);
    expect((await member.post('/api/session', { email, password: 'silver-forest-river-9' })).status).toBe(200);
    expect((await member.get('/api/webhooks')).status).toBe(403);
    expect((await member.post('/api/webhooks', { url: `${receiver.url}/hook` })).status).toBe(403);
    expect((await member.get(`/api/webhooks/${created.body.id}/deliveries`)).status).toBe(403);

    const other = await signUpPartner(portal.url, 'Other Partner');
    expect((await other.client.get('/api/webhooks')).body.webhooks).toEqual([]);
    expect((await other.client.get(`/api/webhooks/${created.body.id}/deliveries`)).status).toBe(404);
    expect((await other.client.patch(`/api/webhooks/${created.body.id}`, { enabled: false })).status).toBe(404);
    expect((await other.client.post(`/api/webhooks/${created.body.id}/test`, {})).status).toBe(404);
    expect((await other.client.delete(`/api/webhooks/${created.body.id}`)).status).toBe(404);
    expect((await owner.client.get('/api/webhooks')).body.webhooks).toEqual([expect.objectContaining({ id: created.body.id, enabled: true })]);
  });
});
