import nodemailer from 'nodemailer';
import type { JobQueue } from '../jobs/queue';
import { PermanentJobError, type QueueWorker } from '../jobs/worker';
import type { NotificationChannel } from './service';
import type { NotificationRow, NotificationStore } from './store';

export interface AlertRecipient {
  id: string;
  email: string;
}

/** The queue's job kind of one alert mail (one notification to one person). */
export const ALERT_MAIL_JOB = 'alert-mail';
/** With the queue's backoff (5 s doubling, jittered, capped at 30 minutes) ten attempts span about 40 minutes of outage. */
const MAIL_ATTEMPTS = 10;

interface AlertMailPayload {
  notificationId: string;
  email: string;
}

export interface EmailChannelDeps {
  smtp: { url: string; from: string };
  store: Pick<NotificationStore, 'emailOptedOut' | 'claimDelivery' | 'settleDelivery' | 'get'>;
  /** The partner's administrators who can receive mail (active people, not groups). */
  administrators: (partnerId: string) => Promise<AlertRecipient[]>;
  jobs: { queue: Pick<JobQueue, 'enqueue'>; worker: Pick<QueueWorker, 'handle' | 'runJob'> };
  publicUrl: string;
  now?: () => Date;
  log: { warn(obj: object, msg: string): void };
  /** Counts each alert mail the server took (the metric of issue 11). */
  sent?: (channel: 'email', type: string) => void;
}

/** The text of an alert email: what happened, how to fix it, where to look, and how to stop these emails. */
export function alertEmail(row: Pick<NotificationRow, 'title' | 'message' | 'fix' | 'link'>, publicUrl: string): { subject: string; text: string } {
  return {
    subject: `Tenantgate alert: ${row.title}`,
    text: [
      row.title,
      '',
      row.message,
      ...(row.fix ? ['', `How to fix: ${row.fix}`] : []),
      ...(row.link ? ['', `Open it in Tenantgate: ${publicUrl}${row.link}`] : []),
      '',
      'You get this email as an administrator of your organization in Tenantgate. To stop alert emails, turn off',
      '"Send alert emails to me" in Settings > Alerts.',
    ].join('\n'),
  };
}

/** A refusal by the mail server (5xx) is final; a 4xx answer, a timeout or a lost connection is worth another try. */
const isPermanentRefusal = (error: unknown): boolean => {
  const code = (error as { responseCode?: number } | null)?.responseCode;
  return typeof code === 'number' && code >= 500;
};

/**
 * Emails each new notification to the partner's administrators who did not opt out, one message per person,
 * each a job of the durable queue keyed by (notification, person): however many portal instances see the
 * event, and whether the portal crashes before or while sending, it is mailed once. It is tried at once; a mail
 * the server cannot take now (unreachable, 4xx) is retried with backoff, a 5xx refusal is final. Each delivery
 * is recorded (sending, then sent or failed).
 */
export function createEmailChannel(deps: EmailChannelDeps): NotificationChannel {
  const transport = nodemailer.createTransport(deps.smtp.url);
  const now = deps.now ?? (() => new Date());

  deps.jobs.worker.handle<AlertMailPayload, never>(ALERT_MAIL_JOB, async (job) => {
    const row = await deps.store.get(job.payload.notificationId);
    if (!row) return; // the partner (and its notifications) is gone
    const delivery = { notificationId: row.id, channel: 'email', recipient: job.payload.email };
    const { subject, text } = alertEmail(row, deps.publicUrl);
    try {
      await transport.sendMail({ from: deps.smtp.from, to: job.payload.email, subject, text });
    } catch (error) {
      const reason = (error as Error).message;
      const permanent = isPermanentRefusal(error);
      deps.log.warn({ to: job.payload.email, reason, notification: row.id, attempt: job.attempts }, 'alert email could not be sent');
      if (permanent || job.attempts >= job.maxAttempts) await deps.store.settleDelivery(delivery, 'failed', reason);
      throw permanent ? new PermanentJobError(reason) : error;
    }
    await deps.store.settleDelivery(delivery, 'sent', null);
    deps.sent?.('email', row.type);
  });

  return {
    async deliver(row) {
      const people = await deps.administrators(row.partner_id);
      const optedOut = await deps.store.emailOptedOut(row.partner_id, people.map((p) => p.id));
      const ids: string[] = [];
      for (const person of people) {
        if (optedOut.has(person.id)) continue;
        await deps.store.claimDelivery({ notificationId: row.id, partnerId: row.partner_id, channel: 'email', recipient: person.email }, now().toISOString());
        const payload: AlertMailPayload = { notificationId: row.id, email: person.email };
        const { id } = await deps.jobs.queue.enqueue({ kind: ALERT_MAIL_JOB, key: `${ALERT_MAIL_JOB}:${row.id}:${person.id}`, partnerId: row.partner_id, payload, maxAttempts: MAIL_ATTEMPTS });
        ids.push(id);
      }
      // Tried at once here; what fails for a passing reason waits in the queue for its next attempt.
      for (const id of ids) await deps.jobs.worker.runJob(id);
    },
  };
}
