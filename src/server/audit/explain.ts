// Audit entries in words: readable action names, and the cause and fix of a failure from the facts stored with
// it. Pure (no I/O), shared by the CSV export and the web app's audit page.
import { describeAadsts } from '../microsoft/aadsts';
import type { AuditAction } from './actions';

/** A name for every action the portal writes (the Record makes the compiler ask for a new one). */
export const AUDIT_ACTION_NAMES: Readonly<Record<AuditAction, string>> = Object.freeze({
  'partner.signup': 'Partner account created',
  'session.signin': 'Sign-in',
  'session.signout': 'Sign-out',
  'session.signout_everywhere': 'Signed out everywhere',
  'request.rate_limited': 'Too many attempts',
  'microsoft.callback': 'Answer from Microsoft',
  'user.add': 'User added',
  'user.remove': 'User removed',
  'user.role_change': 'Role changed',
  'user.activate': 'Account activated',
  'user.invitation_expired': 'Invitation expired',
  'user.invitation_resend': 'Invitation sent again',
  'user.password_change': 'Password changed',
  'user.group_members.download': 'Group members downloaded',
  'user.group_members.restart': 'Group members download restarted',
  'app_profile.create': 'App profile created',
  'app_profile.rename': 'App profile renamed',
  'app_profile.reauthorize': 'App re-authorized',
  'app_profile.check': 'App profile checked',
  'app_profile.sync': 'Directory sync started',
  'app_profile.expired': 'App authorization expired',
  'app_profile.delete': 'App profile deleted',
  'consent_link.create': 'Consent link created',
  'consent_link.revoke': 'Consent link revoked',
  'notification_settings.update': 'Alert settings changed',
  'webhook.create': 'Webhook added',
  'webhook.update': 'Webhook changed',
  'webhook.delete': 'Webhook deleted',
  'webhook.test': 'Webhook test event sent',
});

/** "App profile created" for `app_profile.create`; an unknown code still reads as words. */
export function auditActionName(action: string): string {
  const known = Object.hasOwn(AUDIT_ACTION_NAMES, action) ? AUDIT_ACTION_NAMES[action as AuditAction] : undefined;
  if (known) return known;
  const words = action.replace(/[._]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

interface Explanation {
  cause: string;
  fix: string | null;
}

/** Reasons the portal itself stores (`details.reason` / `details.code`), in words. */
const REASONS: Readonly<Record<string, Explanation>> = Object.freeze({
  wrong_password: { cause: 'The password was wrong.', fix: 'Sign in with the right password, or ask an administrator to reset it.' },
  unknown_account: { cause: 'No account has this email address.', fix: 'Check the address, or ask an administrator to add the person.' },
  account_invited: { cause: 'The account has not been activated yet.', fix: 'Open the activation link of the invitation, or ask for a new link.' },
  account_disabled: { cause: 'The account is disabled.', fix: 'Ask an administrator of the partner to enable it.' },
  rate_limited: { cause: 'Too many attempts in a short time.', fix: 'Wait a few minutes before trying again.' },
  expired: { cause: 'The link or invitation had expired.', fix: 'Send the person a new invitation link from User management.' },
  unknown_or_used: { cause: 'The activation link is unknown or was already used.', fix: 'Send the person a new invitation link from User management.' },
  email_taken: { cause: 'Another account already uses this email address.', fix: 'Remove the other account, or invite the person with another address.' },
  state_mismatch: { cause: 'The sign-in round trip did not match the one that was started (an old or copied link).', fix: 'Start again from the portal.' },
  network: { cause: 'Microsoft could not be reached.', fix: 'Try again in a moment.' },
  timeout: { cause: 'Microsoft did not answer in time.', fix: 'Try again in a moment.' },
  NOT_ADDED: { cause: 'The person was not added to User management.', fix: 'Add the person, or a group they belong to, in User management.' },
  ACCOUNT_DISABLED: { cause: 'The account is disabled in Microsoft 365 or in the portal.', fix: 'Enable the account, then sign in again.' },
  REMOVED_FROM_GROUP: { cause: 'The person is no longer in the group they were added through.', fix: 'Add the person again, or add them to the group in Microsoft 365.' },
  EMAIL_IN_USE: { cause: 'A local account already uses this email address.', fix: 'Remove the local account or sign in with its password.' },
  PROFILE_EXPIRED: { cause: "The app profile of the person's tenant needs re-authorization.", fix: 'Re-authorize the app profile on the Partner app profile page.' },
  WRONG_TENANT: { cause: 'The Microsoft account belongs to another tenant than the app profile.', fix: 'Sign in with a Global Administrator of the app profile’s own tenant.' },
  TENANT_ALREADY_CONNECTED: { cause: 'This tenant is already connected by another app profile.', fix: 'Use the existing app profile, or delete it first.' },
});

const text = (value: unknown): string | null => (typeof value === 'string' && value.trim() ? value.trim() : null);

/** The cause and fix of a failed (or otherwise notable) entry, from its stored details; null when none is known. */
export function explainAudit(entry: { outcome: string; details: Record<string, unknown> | null }): Explanation | null {
  const details = entry.details ?? {};
  const code = text(details.code);
  const aadsts = code?.match(/^AADSTS(\d+)$/);
  if (aadsts) {
    const info = describeAadsts(Number(aadsts[1]));
    return { cause: info.cause, fix: info.fix };
  }
  const known = [code, text(details.reason)].map((key) => (key ? REASONS[key] : undefined)).find(Boolean);
  if (known) return known;
  const message = text(details.message) ?? text(details.reason);
  if (message && message.includes(' ')) return { cause: message, fix: null };
  if (entry.outcome === 'failure' && (code || message)) return { cause: `The portal recorded “${code ?? message}”.`, fix: null };
  return null;
}
