import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpPartner } from '../support/api-client';
import { testEngines } from '../support/engines';
import { AdminBrowser, CONTOSO, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';
import { freePort } from '../support/portal-process';
import { startSmtpServer } from '../support/smtp-server';

/** A received mail's body with quoted-printable undone (soft line breaks, =XX escapes, UTF-8). */
const bodyOf = (data: string) => {
  const bytes = data.replace(/=\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
};
const linkIn = (data: string) => /(http:\/\/localhost:\d+\/consent\/[A-Za-z0-9_-]{43})/.exec(bodyOf(data))?.[1];

/** Issue 10, section 3: a consent link given an address is mailed to it through the durable queue, like invitation mail. */
describe.each(testEngines())('consent links by email on %s', (engine) => {
  let portal: TestPortal;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let partner: Awaited<ReturnType<typeof signUpPartner>>;
  const jobs = () => portal.services.db.selectFrom('jobs').select(['state', 'payload', 'attempts', 'key']).where('kind', '=', 'consent-link-mail').orderBy('created_at').execute();

  beforeAll(async () => {
    smtp = await startSmtpServer({ refuse: ['bounce@contoso.test'] });
    portal = await startTestPortal(engine, { SMTP_URL: smtp.url, SMTP_FROM: 'portal@tenantgate.test' });
    partner = await signUpPartner(portal.url, 'Mail Partner');
  });
  afterAll(async () => {
    await portal?.close();
    await smtp?.close();
  });

  it('mails a new-profile link: who asks, what it does, the cloud, when it expires; the answer says it was emailed and the job forgets the link', async () => {
    const res = await partner.client.post('/api/consent-links', { name: 'Contoso by mail', cloud: 'global', email: 'GA@Contoso.test' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.emailed).toBe(true);
    expect(smtp.mails).toHaveLength(1);
    const mail = smtp.mails[0];
    expect(mail).toMatchObject({ from: 'portal@tenantgate.test', to: ['ga@contoso.test'] });
    expect(linkIn(mail.data)).toBe(res.body.url);
    const body = bodyOf(mail.data);
    expect(body).toContain('Mail Partner asks you, as a Global Administrator');
    expect(body).toContain('connect your Microsoft 365 tenant to its Tenantgate portal as “Contoso by mail”');
    expect(body).toContain('Global Microsoft 365');
    expect(body).toContain(`It expires on ${new Date(res.body.expiresAt as string).toUTCString()}.`);
    expect(body).toMatch(/It works once/);
    expect(mail.data).toMatch(/Subject: Mail Partner asks for your consent in Microsoft 365/);
    const token = new URL(res.body.url as string).pathname.split('/').pop()!;
    expect(await jobs()).toEqual([expect.objectContaining({ state: 'done', payload: '{}', attempts: 1 })]);
    expect(JSON.stringify(await jobs())).not.toContain(token);
  });

  it('mails a re-authorize link naming the profile; without an address nothing is mailed', async () => {
    const outcome = await new AdminBrowser(partner.client).createProfile('Contoso', { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    const sent = smtp.mails.length;
    const res = await partner.client.post(`/api/app-profiles/${outcome.profileId}/consent-links`, { email: CONTOSO.admin2 });
    expect(res.status).toBe(201);
    expect(res.body.emailed).toBe(true);
    expect(smtp.mails).toHaveLength(sent + 1);
    expect(smtp.mails[sent].to).toEqual([CONTOSO.admin2.toLowerCase()]);
    expect(bodyOf(smtp.mails[sent].data)).toContain('authorize its Tenantgate connection “Contoso” to your Microsoft 365 tenant again');
    expect(linkIn(smtp.mails[sent].data)).toBe(res.body.url);

    const silent = await partner.client.post(`/api/app-profiles/${outcome.profileId}/consent-links`, {});
    expect(silent.body.emailed).toBe(false);
    expect(smtp.mails).toHaveLength(sent + 1);
  });

  it('a mail the server refuses (5xx) is not retried: the answer says not emailed, so the link is passed on by hand', async () => {
    const res = await partner.client.post('/api/consent-links', { name: 'Bounced', cloud: 'global', email: 'bounce@contoso.test' });
    expect(res.status).toBe(201);
    expect(res.body.emailed).toBe(false);
    expect((await jobs()).at(-1)).toMatchObject({ state: 'failed', payload: '{}', attempts: 1 });
  });
});

describe('consent link mail while the mail server is down (a job of the durable queue)', () => {
  let portal: TestPortal;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>> | undefined;
  let smtpPort: number;
  beforeAll(async () => {
    smtpPort = await freePort();
    portal = await startTestPortal('sqlite', { SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, SMTP_FROM: 'portal@tenantgate.test' }, { backgroundJobs: true });
  });
  afterAll(async () => {
    await portal?.close();
    await smtp?.close();
  });

  it('answers not emailed at once, mails the link when the server is back; a revoked link is not mailed later', async () => {
    const { client } = await signUpPartner(portal.url);
    const res = await client.post('/api/consent-links', { name: 'Later', cloud: 'global', email: 'ga@contoso.test' });
    expect(res.body.emailed).toBe(false);
    const revoked = await client.post('/api/consent-links', { name: 'Withdrawn', cloud: 'global', email: 'other.ga@contoso.test' });
    expect((await client.delete(`/api/consent-links/${revoked.body.id}`)).status).toBe(204);
    const job = () => portal.services.db.selectFrom('jobs').selectAll().where('kind', '=', 'consent-link-mail').where('key', '=', `consent-link-mail:${res.body.id}`).executeTakeFirstOrThrow();
    expect(await job()).toMatchObject({ state: 'queued', attempts: 1 });
    expect((await job()).payload).not.toContain(new URL(res.body.url as string).pathname.split('/').pop());

    const all = () => portal.services.db.selectFrom('jobs').select('state').where('kind', '=', 'consent-link-mail').execute();
    smtp = await startSmtpServer({ port: smtpPort });
    for (let i = 0; i < 200 && (await all()).some((j) => j.state !== 'done'); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await job()).toMatchObject({ state: 'done', attempts: 2, payload: '{}' });
    // Link mails only: the revocation also raised an alert, mailed to the partner's administrators meanwhile.
    const linkMails = smtp.mails.filter((m) => m.to.some((to) => to.endsWith('@contoso.test')));
    expect(linkMails.map((m) => m.to)).toEqual([['ga@contoso.test']]);
    expect(linkIn(linkMails[0].data)).toBe(res.body.url);
  }, 20_000);
});
