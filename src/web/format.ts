// Small pure formatting helpers shared by the pages.
import type { AppProfile, CloudId, User } from './api/models';

const DAY_MS = 24 * 60 * 60 * 1000;

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

const exactDateTime = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  timeZoneName: 'short',
});

/** To the second, with the time zone: for the audit log, where order and exact moments matter. */
export function formatTimeExact(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : exactDateTime.format(date);
}

/** "Lapses in N days if unused", or null when nothing lapses. */
export function lapsesText(lapsesAt: string | null | undefined, now: Date = new Date()): string | null {
  if (!lapsesAt) return null;
  const at = new Date(lapsesAt).getTime();
  if (Number.isNaN(at)) return null;
  const days = Math.ceil((at - now.getTime()) / DAY_MS);
  if (days <= 0) return 'Lapses today if unused';
  return `Lapses in ${days} ${days === 1 ? 'day' : 'days'} if unused`;
}

export const cloudLabels: Record<CloudId, string> = {
  global: 'Global',
  usgov: 'U.S. Government',
  china: '21Vianet',
};

export function cloudLabel(cloud: string): string {
  return cloudLabels[cloud as CloudId] ?? cloud;
}

/** The hint under a version's choice, from the cloud's sign-in host the API gives: "… ends with .us". */
export function loginHostHint(loginHost: string): string {
  return `Your customer’s Microsoft login URL ends with .${loginHost.split('.').pop()}`;
}

export function statusLabel(profile: Pick<AppProfile, 'status'>): string {
  return profile.status === 'active' ? 'Active' : 'App authorization expired';
}

export function signInTypeLabel(user: Pick<User, 'signInType' | 'kind'>): string {
  if (user.signInType === 'local') return 'Local user';
  return user.kind === 'group' ? 'Microsoft 365 group' : 'Microsoft 365 user';
}

export function roleLabel(role: string): string {
  return role === 'administrator' ? 'Administrator' : 'Member';
}

export function userStatusLabel(status: string): string {
  switch (status) {
    case 'invited':
      return 'Invited';
    case 'active':
      return 'Active';
    case 'disabled':
      return 'Disabled';
    default:
      return status;
  }
}

/** Splits what people paste (lines, commas, semicolons, spaces) into unique addresses, in order. */
export function parseEmails(text: string): string[] {
  const seen = new Set<string>();
  const result: string[] = [];
  for (const part of text.split(/[\s,;]+/)) {
    const email = part.trim();
    if (!email) continue;
    const key = email.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    result.push(email);
  }
  return result;
}

/** Appends addresses to the textarea contents, one per line, skipping ones already there. */
export function appendEmails(text: string, emails: string[]): string {
  const existing = new Set(parseEmails(text).map((email) => email.toLowerCase()));
  const additions = emails.filter((email) => {
    const key = email.toLowerCase();
    if (existing.has(key)) return false;
    existing.add(key);
    return true;
  });
  if (additions.length === 0) return text;
  const base = text.replace(/\s+$/, '');
  return base ? `${base}\n${additions.join('\n')}` : additions.join('\n');
}

const counted = (n: number, one: string) => `${n} ${n === 1 ? one : `${one}s`}`;

/**
 * "1 Microsoft 365 user and 2 groups": what User management holds through app profiles, each noun in its number.
 * A kind with none is left out; with none of either, it says "0 users".
 */
export function usersAndGroups(counts: { users: number; groups: number }, user = 'user'): string {
  const parts: string[] = [];
  if (counts.users > 0 || counts.groups === 0) parts.push(counted(counts.users, user));
  if (counts.groups > 0) parts.push(counted(counts.groups, 'group'));
  return parts.join(' and ');
}

export function blockedProfileMessage(item: {
  name?: string;
  message?: string;
  inUse?: { users: number; groups: number };
}): string {
  if (item.message) return item.message;
  const inUse = usersAndGroups(item.inUse ?? { users: 0, groups: 0 }, 'Microsoft 365 user');
  return `“${item.name ?? 'App profile'}” cannot be deleted: used by ${inUse} in User management.`;
}
