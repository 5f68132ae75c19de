import nodemailer from 'nodemailer';
import type { NotificationChannel } from './service';
import type { NotificationRow, NotificationStore } from './store';

export interface AlertRecipient {
  id: string;
  email: string;
}

export interface EmailChannelDeps {
  smtp: { url: string; from: string };
  store: Pick<NotificationStore, 'emailOptedOut' | 'claimDelivery' | 'settleDelivery'>;
  /** The partner's administrators who can receive mail (active people, not groups). */
  administrators: (partnerId: string) => Promise<AlertRecipient[]>;
  publicUrl: string;
  now?: () => Date;
  log: { warn(obj: object, msg: string): void };
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

/**
 * Emails each new notification to the partner's administrators who did not opt out, one message per
 * person. Each (notification, person) delivery is taken in the database before sending, so however many
 * portal instances see the event, it goes out once; a refused address is recorded, not retried.
 */
export function createEmailChannel(deps: EmailChannelDeps): NotificationChannel {
  const transport = nodemailer.createTransport(deps.smtp.url);
  const now = deps.now ?? (() => new Date());
  return {
    async deliver(row) {
      const people = await deps.administrators(row.partner_id);
      const optedOut = await deps.store.emailOptedOut(row.partner_id, people.map((p) => p.id));
      const { subject, text } = alertEmail(row, deps.publicUrl);
      for (const person of people) {
        if (optedOut.has(person.id)) continue;
        const delivery = { notificationId: row.id, partnerId: row.partner_id, channel: 'email', recipient: person.email };
        if (!(await deps.store.claimDelivery(delivery, now().toISOString()))) continue;
        try {
          await transport.sendMail({ from: deps.smtp.from, to: person.email, subject, text });
          await deps.store.settleDelivery(delivery, 'sent', null);
        } catch (error) {
          const reason = (error as Error).message;
          deps.log.warn({ to: person.email, reason, notification: row.id }, 'alert email could not be sent');
          await deps.store.settleDelivery(delivery, 'failed', reason);
        }
      }
    },
  };
}
