import nodemailer from 'nodemailer';
import type { Invitation, InvitationDelivery } from './invitations';

/**
 * Sends each invitation by SMTP. An invitation the mail server refuses is not lost: it comes back to
 * be shown to the administrator once, like when no SMTP server is configured.
 */
export function smtpDelivery(smtp: { url: string; from: string }, log: { warn(obj: object, msg: string): void }): InvitationDelivery {
  const transport = nodemailer.createTransport(smtp.url);
  return {
    async deliver(invitations: Invitation[]): Promise<Invitation[]> {
      const undelivered: Invitation[] = [];
      for (const invitation of invitations) {
        try {
          await transport.sendMail({
            from: smtp.from,
            to: invitation.email,
            subject: 'You are invited to Tenantgate',
            text: [
              'You have been added to your organization’s Tenantgate partner portal.',
              '',
              'Set your password within 72 hours with this link (it works once):',
              invitation.activationUrl,
              '',
              'If you did not expect this invitation, you can ignore this message.',
            ].join('\n'),
          });
        } catch (error) {
          // The link itself is never logged: only who and why.
          log.warn({ to: invitation.email, reason: (error as Error).message }, 'invitation email could not be sent');
          undelivered.push(invitation);
        }
      }
      return undelivered;
    },
  };
}
