/**
 * Every action the portal writes to the audit log. `AuditEntry.action` is typed by it, so a new action is added
 * here first, and the compiler then asks for its name in AUDIT_ACTION_NAMES (explain.ts). Pure: the web app reads it.
 */
export const AUDIT_ACTIONS = [
  'partner.signup',
  'session.signin',
  'session.signout',
  'session.signout_everywhere',
  'request.rate_limited',
  'microsoft.callback',
  'user.add',
  'user.remove',
  'user.role_change',
  'user.activate',
  'user.invitation_expired',
  'user.invitation_resend',
  'user.password_change',
  'user.group_members.download',
  'user.group_members.restart',
  'app_profile.create',
  'app_profile.rename',
  'app_profile.reauthorize',
  'app_profile.check',
  'app_profile.sync',
  'app_profile.expired',
  'app_profile.delete',
  'consent_link.create',
  'consent_link.revoke',
  'notification_settings.update',
  'webhook.create',
  'webhook.update',
  'webhook.delete',
  'webhook.test',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];
