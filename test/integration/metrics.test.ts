import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, signUpPartner } from '../support/api-client';
import { testEngines } from '../support/engines';
import { AdminBrowser, CONTOSO, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';
import { freePort } from '../support/portal-process';

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
