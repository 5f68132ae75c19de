import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, signUpPartner } from '../support/api-client';
import { testEngines } from '../support/engines';
import { AdminBrowser, CONTOSO, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';
import { freePort } from '../support/portal-process';
import { startSmtpServer } from '../support/smtp-server';
import { startWebhookReceiver } from '../support/webhook-receiver';

describe.each(testEngines())('Prometheus metrics and log context (%s)', (engine) => {
  let portal: TestPortal;
  let plain: TestPortal;
  const lines: Record<string, unknown>[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  let profileId: string;
  let partnerId: string;

  beforeAll(async () => {
    portal = await startTestPortal(engine, { METRICS_PORT: String(await freePort()), LOG_LEVEL: 'info' }, { backgroundJobs: true, logStream });
    plain = await startTestPortal(engine);
    const signedUp = await signUpPartner(portal.url);
    partnerId = signedUp.partnerId;
    const outcome = await new AdminBrowser(signedUp.client).createProfile('Contoso', { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    profileId = outcome.profileId!;
    expect((await signedUp.client.post(`/api/app-profiles/${profileId}/check`)).body.status).toBe('active');
    expect((await new ApiClient(portal.url).post('/api/session', { email: signedUp.email, password: 'not-the-password-at-all' })).status).toBe(401);
    expect((await new ApiClient(portal.url).post('/api/session', { email: signedUp.email, password: signedUp.password })).status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await portal?.close();
    await plain?.close();
  });

  const scrape = async () => {
    const res = await fetch(portal.metricsUrl!);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text();
  };

  it('serves GET /metrics on METRICS_PORT only; the public port never does, and without the setting it is off', async () => {
    expect(portal.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(new URL(portal.metricsUrl!).port).not.toBe(new URL(portal.url).port);
    expect((await fetch(`${portal.url}/metrics`)).status).toBe(404);
    expect((await fetch(new URL('/other', portal.metricsUrl!))).status).toBe(404);
    expect(plain.metricsUrl).toBeUndefined();
  });

  it('counts HTTP answers by route and status, Graph calls by cloud/status/throttling, budget use, profiles by status and sign-ins by outcome', async () => {
    const text = await scrape();
    expect(text).toMatch(/tenantgate_http_request_duration_seconds_count\{method="POST",route="\/api\/signup",status="201"\} 1\n/);
    expect(text).toMatch(/tenantgate_http_request_duration_seconds_count\{method="POST",route="\/api\/app-profiles\/:id\/check",status="200"\} 1\n/);
    expect(text).toMatch(/tenantgate_graph_requests_total\{cloud="global",status="200",throttled="false"\} [1-9]/);
    expect(text).toMatch(/tenantgate_graph_budget_units_total\{cloud="global"\} [1-9]/);
    expect(text).toMatch(/tenantgate_app_profiles\{status="active"\} 1\n/);
    expect(text).toMatch(/tenantgate_sign_ins_total\{method="password",outcome="failure"\} 1\n/);
    expect(text).toMatch(/tenantgate_sign_ins_total\{method="password",outcome="success"\} 1\n/);
    expect(text).toMatch(/tenantgate_process_cpu_seconds_total/);
  });

  it('counts job runs and their durations', async () => {
    let text = '';
    for (let i = 0; i < 50 && !/tenantgate_job_runs_total\{job="app-profile-health",outcome="success"\} 1/.test(text); i++) {
      text = await scrape();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(text).toMatch(/tenantgate_job_runs_total\{job="app-profile-health",outcome="success"\} 1\n/);
    expect(text).toMatch(/tenantgate_job_duration_seconds_count\{job="directory-sync"\} 1\n/);
  });

  it('every log line of a request names its request id, partner and profile; a job\'s lines name the job run', () => {
    const check = lines.find((l) => l.msg === 'request completed' && String((l.req as { url?: string })?.url).endsWith(`/api/app-profiles/${profileId}/check`));
    expect(check).toMatchObject({ reqId: expect.any(String), partnerId, profileId, userId: expect.any(String) });
    const sweep = lines.find((l) => l.msg === 'app profile health sweep finished');
    expect(sweep).toMatchObject({ job: 'app-profile-health', jobRunId: expect.any(String) });
  });
});

describe.each(testEngines())('alerts sent, by channel and type (%s)', (engine) => {
  let portal: TestPortal;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    receiver = await startWebhookReceiver({ status: (path) => ({ code: path === '/down' ? 500 : 200 }) });
    portal = await startTestPortal(engine, { METRICS_PORT: String(await freePort()), SMTP_URL: smtp.url, SMTP_FROM: 'portal@tenantgate.test' });
  });
  afterAll(async () => {
    await portal?.close();
    await receiver?.close();
    await smtp?.close();
  });

  const sent = async (channel: string) => {
    const text = await (await fetch(portal.metricsUrl!)).text();
    return Number(new RegExp(`tenantgate_alerts_sent_total\\{channel="${channel}",type="consent_link_revoked"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  };

  it('counts an alert once per channel where it was delivered: the portal list, each mail taken, each webhook answered 2xx (not a failing one, not a test event)', async () => {
    const { client } = await signUpPartner(portal.url, 'Metric Partner');
    const good = await client.post('/api/webhooks', { url: `${receiver.url}/up` });
    expect(good.status, JSON.stringify(good.body)).toBe(201);
    receiver.useSecret(good.body.secret as string);
    expect((await client.post('/api/webhooks', { url: `${receiver.url}/down` })).status).toBe(201);
    expect((await client.post(`/api/webhooks/${good.body.id}/test`, {})).status).toBe(200);

    const link = await client.post('/api/consent-links', { name: 'Revoked soon', cloud: 'global' });
    expect((await client.delete(`/api/consent-links/${link.body.id}`)).status).toBe(204);

    await expect.poll(() => sent('webhook')).toBe(1);
    await expect.poll(() => sent('email')).toBe(1);
    expect(await sent('portal')).toBe(1);
    expect(receiver.received.filter((r) => r.path === '/down').length).toBeGreaterThan(0);
    expect(smtp.mails.filter((m) => /Subject: Tenantgate alert/.test(m.data))).toHaveLength(1);
  });
});
