import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, signUpPartner } from '../support/api-client';
import { startTestPortal, type TestPortal } from '../support/portal';
import { freePort } from '../support/portal-process';
import { startSmtpServer } from '../support/smtp-server';

describe('invitations by email (SMTP configured)', () => {
  let portal: TestPortal;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  beforeAll(async () => {
    smtp = await startSmtpServer({ refuse: ['bounce@acme-partner.test'] });
    portal = await startTestPortal('sqlite', { SMTP_URL: smtp.url, SMTP_FROM: 'portal@tenantgate.test' });
  });
  afterAll(async () => {
    await portal?.close();
    await smtp?.close();
  });

  it('mails the single-use activation link, and shows the administrator only the ones the server refused', async () => {
    const { client } = await signUpPartner(portal.url);
    const res = await client.post('/api/users', { signInType: 'local', emails: ['new.hire@acme-partner.test', 'bounce@acme-partner.test'], role: 'member' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.added).toHaveLength(2);
    expect(res.body.invitationsEmailed).toBe(1);
    expect(res.body.invitations.map((i: { email: string }) => i.email)).toEqual(['bounce@acme-partner.test']);
    // The refused address is not retried (a 5xx is final); neither job keeps the sealed link once finished.
    const jobs = await portal.services.db.selectFrom('jobs').select(['state', 'payload', 'attempts']).where('kind', '=', 'invitation-mail').orderBy('state').execute();
    expect(jobs).toEqual([
      { state: 'done', payload: '{}', attempts: 1 },
      { state: 'failed', payload: '{}', attempts: 1 },
    ]);

    expect(smtp.mails).toHaveLength(1);
    const mail = smtp.mails[0];
    expect(mail.from).toBe('portal@tenantgate.test');
    expect(mail.to).toEqual(['new.hire@acme-partner.test']);
    // The body is quoted-printable: undo soft line breaks and =XX escapes.
    const body = mail.data.replace(/=\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    const link = /(http:\/\/localhost:\d+\/activate\?token=[A-Za-z0-9_-]+)/.exec(body)?.[1];
    expect(link).toBeDefined();

    // The mailed link activates the account once.
    const token = new URL(link!).searchParams.get('token');
    const invitee = new ApiClient(portal.url);
    expect((await invitee.post('/api/activate', { token, password: 'amber-canyon-lighthouse-3' })).status).toBe(200);
    expect((await invitee.post('/api/activate', { token, password: 'amber-canyon-lighthouse-3' })).status).toBe(400);
    expect((await invitee.post('/api/session', { email: 'new.hire@acme-partner.test', password: 'amber-canyon-lighthouse-3' })).status).toBe(200);
  });
});

/** The activation link in a received mail (quoted-printable undone). */
const linkIn = (data: string) =>
  /(http:\/\/localhost:\d+\/activate\?token=[A-Za-z0-9_-]+)/.exec(data.replace(/=\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))))?.[1];

describe('invitation mail while the mail server is down (a job of the durable queue)', () => {
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

  it('shows the link at once and mails it when the server is back; the job then holds no link', async () => {
    const { client } = await signUpPartner(portal.url);
    const res = await client.post('/api/users', { signInType: 'local', emails: ['late.mail@acme-partner.test'], role: 'member' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.invitationsEmailed).toBe(0);
    const shown = res.body.invitations[0].activationUrl as string;
    const job = () => portal.services.db.selectFrom('jobs').selectAll().where('kind', '=', 'invitation-mail').executeTakeFirstOrThrow();
    expect(await job()).toMatchObject({ state: 'queued', attempts: 1 });
    expect((await job()).payload).not.toContain(new URL(shown).searchParams.get('token'));

    smtp = await startSmtpServer({ port: smtpPort });
    for (let i = 0; i < 200 && smtp.mails.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(smtp.mails.map((m) => m.to)).toEqual([['late.mail@acme-partner.test']]);
    expect(linkIn(smtp.mails[0].data)).toBe(shown);
    expect(await job()).toMatchObject({ state: 'done', attempts: 2, payload: '{}' });
  }, 20_000);
});
