import nodemailer from 'nodemailer';
import type { JobQueue } from '../jobs/queue';
import { PermanentJobError, type QueueWorker } from '../jobs/worker';
import { CLOUD_INFO } from '../microsoft/clouds';
import type { SecretBox } from '../security/secret-box';
import type { ConsentLinkRow, ConsentLinkStore } from './store';

/** The queue's job kind of one consent link mail. */
export const CONSENT_LINK_MAIL_JOB = 'consent-link-mail';
/** With the queue's backoff (5 s doubling, jittered) ten attempts span about 40 minutes of mail server outage. */
const MAIL_ATTEMPTS = 10;

interface ConsentMailPayload {
  linkId: string;
  email: string;
  /** The link, sealed (it carries the token): the job row never holds it in the clear. */
  sealedUrl: string;
}

export interface ConsentLinkMailer {
  /** Mails the link to `email`; true when the mail server took it now (otherwise the queue retries while the link waits). */
  send(row: ConsentLinkRow, url: string): Promise<boolean>;
}

export interface ConsentLinkMailDeps {
  box: Pick<SecretBox, 'seal' | 'open'>;
  jobs: { queue: Pick<JobQueue, 'enqueue'>; worker: Pick<QueueWorker, 'handle' | 'runJob'> };
  store: Pick<ConsentLinkStore, 'byId' | 'partnerName'>;
  log: { warn(obj: object, msg: string): void };
  now?: () => Date;
}

/** The text of the mail: which partner asks, what the link does, in which cloud, until when, and that it works once. */
export function consentLinkEmail(input: { partnerName: string; row: Pick<ConsentLinkRow, 'profile_name' | 'profile_id' | 'cloud' | 'expires_at'>; url: string }): { subject: string; text: string } {
  const { row } = input;
  const what = row.profile_id
    ? `authorize its Tenantgate connection “${row.profile_name}” to your Microsoft 365 tenant again, so it can keep managing who signs in to its portal`
    : `connect your Microsoft 365 tenant to its Tenantgate portal as “${row.profile_name}”, so your users can be added to it and sign in with Microsoft`;
  return {
    subject: `${input.partnerName} asks for your consent in Microsoft 365`,
    text: [
      `${input.partnerName} asks you, as a Global Administrator of your organization’s Microsoft 365 tenant (${CLOUD_INFO[row.cloud].label}), to ${what}.`,
      '',
      'The link below shows which read-only permissions are requested and why, then takes you to Microsoft to sign in and consent. It works once.',
      input.url,
      '',
      `It expires on ${new Date(row.expires_at).toUTCString()}.`,
      '',
      'If you did not expect this request, ignore this message: nothing happens without your consent at Microsoft.',
    ].join('\n'),
  };
}

/** A refusal by the mail server (5xx) is final; a 4xx answer, a timeout or a lost connection is worth another try. */
const isPermanentRefusal = (error: unknown): boolean => {
  const code = (error as { responseCode?: number } | null)?.responseCode;
  return typeof code === 'number' && code >= 500;
};

/**
 * Mails consent links (when SMTP is configured) as jobs of the durable queue, like invitation mail: tried at
 * once inside the request, retried with backoff when the server cannot take it now, final on a 5xx refusal;
 * a retry sends only while the link still waits (not used, revoked or expired), and the job keeps the link
 * sealed and forgets it when done.
 */
export function consentLinkMailer(smtp: { url: string; from: string }, deps: ConsentLinkMailDeps): ConsentLinkMailer {
  const transport = nodemailer.createTransport(smtp.url);
  const now = deps.now ?? (() => new Date());

  deps.jobs.worker.handle<ConsentMailPayload, never>(
    CONSENT_LINK_MAIL_JOB,
    async (job) => {
      const row = await deps.store.byId(job.payload.linkId);
      if (!row || row.used_at || row.revoked_at || Date.parse(row.expires_at) <= now().getTime()) return;
      const url = deps.box.open(job.payload.sealedUrl, job.key);
      const { subject, text } = consentLinkEmail({ partnerName: (await deps.store.partnerName(row.partner_id)) ?? 'Your partner', row, url });
      try {
        await transport.sendMail({ from: smtp.from, to: job.payload.email, subject, text });
      } catch (error) {
        // The link itself is never logged: only which link, to whom and why.
        deps.log.warn({ to: job.payload.email, consentLink: row.id, reason: (error as Error).message, attempt: job.attempts }, 'consent link email could not be sent');
        throw isPermanentRefusal(error) ? new PermanentJobError((error as Error).message) : error;
      }
    },
    { erasePayload: true },
  );

  return {
    async send(row, url) {
      if (!row.email) return false;
      const key = `${CONSENT_LINK_MAIL_JOB}:${row.id}`;
      const payload: ConsentMailPayload = { linkId: row.id, email: row.email, sealedUrl: deps.box.seal(url, key) };
      const { id } = await deps.jobs.queue.enqueue({ kind: CONSENT_LINK_MAIL_JOB, key, partnerId: row.partner_id, payload, maxAttempts: MAIL_ATTEMPTS });
      const outcome = await deps.jobs.worker.runJob(id);
      return outcome?.state === 'done';
    },
  };
}
