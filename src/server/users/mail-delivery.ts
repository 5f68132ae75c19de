import nodemailer from 'nodemailer';
import type { JobQueue } from '../jobs/queue';
import { PermanentJobError, type QueueWorker } from '../jobs/worker';
import type { SecretBox } from '../security/secret-box';
import { activationHash, type Invitation, type InvitationDelivery } from './invitations';
import type { UserStore } from './store';

/** The queue's job kind of one invitation mail. */
export const INVITATION_MAIL_JOB = 'invitation-mail';
/** With the queue's backoff (5 s doubling, jittered) ten attempts span about 40 minutes of mail server outage. */
const MAIL_ATTEMPTS = 10;

interface MailPayload {
  email: string;
  /** The activation link, sealed (it carries the token): the job row never holds it in the clear. */
  sealedLink: string;
}

export interface MailDeliveryDeps {
  box: Pick<SecretBox, 'seal' | 'open'>;
  jobs: { queue: Pick<JobQueue, 'enqueue'>; worker: Pick<QueueWorker, 'handle' | 'runJob'> };
  store: Pick<UserStore, 'findByActivationHash'>;
  log: { warn(obj: object, msg: string): void };
}

/** A refusal by the mail server (5xx) is final; a 4xx answer, a timeout or a lost connection is worth another try. */
const isPermanentRefusal = (error: unknown): boolean => {
  const code = (error as { responseCode?: number } | null)?.responseCode;
  return typeof code === 'number' && code >= 500;
};

/**
 * Sends each invitation by SMTP as a job of the durable queue, tried at once inside the request. An invitation
 * the mail server refuses, or cannot take now, is not lost: its link comes back to be shown to the
 * administrator once (like when no SMTP server is configured), and a mail that failed for a passing reason (the
 * server unreachable, a 4xx answer) is retried with backoff by the queue. A retry sends only while the link
 * still works (not used, not replaced by a newer one, not expired).
 */
export function smtpDelivery(smtp: { url: string; from: string }, deps: MailDeliveryDeps): InvitationDelivery {
  const transport = nodemailer.createTransport(smtp.url);
  const tokenOf = (link: string) => new URL(link).searchParams.get('token') ?? '';

  deps.jobs.worker.handle<MailPayload, never>(
    INVITATION_MAIL_JOB,
    async (job) => {
      const link = deps.box.open(job.payload.sealedLink, job.key);
      const row = await deps.store.findByActivationHash(activationHash(tokenOf(link)));
      if (!row || !row.activation_expires_at || row.activation_expires_at <= new Date().toISOString()) return;
      try {
        await transport.sendMail({
          from: smtp.from,
          to: job.payload.email,
          subject: 'You are invited to Tenantgate',
          text: [
            'You have been added to your organization’s Tenantgate partner portal.',
            '',
            'Set your password within 72 hours with this link (it works once):',
            link,
            '',
            'If you did not expect this invitation, you can ignore this message.',
          ].join('\n'),
        });
      } catch (error) {
        // The link itself is never logged: only who and why.
        deps.log.warn({ to: job.payload.email, reason: (error as Error).message, attempt: job.attempts }, 'invitation email could not be sent');
        throw isPermanentRefusal(error) ? new PermanentJobError((error as Error).message) : error;
      }
    },
    { erasePayload: true },
  );

  return {
    async deliver(invitations: Invitation[]): Promise<Invitation[]> {
      const undelivered: Invitation[] = [];
      for (const invitation of invitations) {
        // Keyed by the token's hash: one mail job per link.
        const key = `${INVITATION_MAIL_JOB}:${activationHash(tokenOf(invitation.activationUrl))}`;
        const payload: MailPayload = { email: invitation.email, sealedLink: deps.box.seal(invitation.activationUrl, key) };
        const { id } = await deps.jobs.queue.enqueue({ kind: INVITATION_MAIL_JOB, key, payload, maxAttempts: MAIL_ATTEMPTS });
        const outcome = await deps.jobs.worker.runJob(id);
        if (outcome?.state !== 'done') undelivered.push(invitation);
      }
      return undelivered;
    },
  };
}
