/**
 * The events a partner is alerted to (issue 10, section 2), as plain data. Features build them with the
 * functions below and hand them to a `Notify`; this file imports nothing from any feature.
 */

export const NOTIFICATION_TYPES = [
  'profile_expired',
  'profile_restored',
  'refresh_lapse_warning',
  'permission_drift',
  'permissions_restored',
  'checks_failing',
  'checks_restored',
  'directory_sync_failing',
  'directory_sync_restored',
  'group_download_failed',
  'group_download_restored',
  'consent_link_used',
  'consent_link_expired',
  'consent_link_revoked',
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

export const NOTIFICATION_SEVERITIES = ['error', 'warning', 'info', 'resolved'] as const;
export type NotificationSeverity = (typeof NOTIFICATION_SEVERITIES)[number];

export interface NotificationEvent {
  partnerId: string;
  type: NotificationType;
  severity: NotificationSeverity;
  /**
   * The idempotency key. A one-shot event is stored once under it. With `episode`, it names a lasting
   * condition instead: `open` notifies once until a `resolve` of the same key ends the episode, so a later
   * lapse notifies again (stored as `<key>:<episode>` and `<key>:<episode>:resolved`).
   */
  key: string;
  episode?: 'open' | 'resolve';
  appProfileId?: string | null;
  title: string;
  message: string;
  fix?: string | null;
  /** Portal path of the affected page. */
  link?: string | null;
  data?: Record<string, unknown>;
}

/** Delivers an event on the partner's channels; never throws (an alert must not break what raised it). */
export type Notify = (event: NotificationEvent) => Promise<void>;

const PROFILES_PAGE = '/settings/app-profiles';
const USERS_PAGE = '/settings/users';

interface ProfileRef {
  partnerId: string;
  id: string;
  name: string;
  tenantId: string;
}

const profileData = (p: ProfileRef) => ({ appProfile: { id: p.id, name: p.name, tenantId: p.tenantId } });

export function profileExpired(profile: ProfileRef, reason: { code: string; message: string; fix: string | null }): NotificationEvent {
  return {
    partnerId: profile.partnerId,
    type: 'profile_expired',
    severity: 'error',
    key: `profile-expired:${profile.id}`,
    episode: 'open',
    appProfileId: profile.id,
    title: `App authorization expired: ${profile.name}`,
    message: `${reason.message} Microsoft 365 users still sign in while the tenant’s consent stands; user management, Browse and the directory sync wait until the app is authorized again.`,
    fix: reason.fix ?? 'Re-authorize the app with a Global Administrator of the tenant.',
    link: PROFILES_PAGE,
    data: { ...profileData(profile), code: reason.code },
  };
}

export function profileRestored(profile: ProfileRef, how: 'check' | 'reauthorize'): NotificationEvent {
  return {
    partnerId: profile.partnerId,
    type: 'profile_restored',
    severity: 'resolved',
    key: `profile-expired:${profile.id}`,
    episode: 'resolve',
    appProfileId: profile.id,
    title: `App authorization restored: ${profile.name}`,
    message: how === 'reauthorize' ? 'The app was authorized again; the profile is Active.' : 'Check now succeeded; the profile is Active again.',
    link: PROFILES_PAGE,
    data: { ...profileData(profile), how },
  };
}

const DAY_MS = 24 * 3600_000;

/** Days before Microsoft's 90-day inactivity lapse at which a partner is warned, earliest first. */
export const LAPSE_WARNING_DAYS_LEFT = [14, 3] as const;

/**
 * The warning due for a profile whose last successful refresh was at `tokenUsedAt`, or null: 14 days left
 * from day 76 on, 3 days left from day 87 on. Keyed by that refresh, so a later refresh starts over.
 */
export function refreshLapseWarning(profile: ProfileRef, tokenUsedAt: string, lapseAfterMs: number, now: Date): NotificationEvent | null {
  const lapsesAt = Date.parse(tokenUsedAt) + lapseAfterMs;
  const left = lapsesAt - now.getTime();
  if (!(left > 0)) return null;
  const daysLeft = [...LAPSE_WARNING_DAYS_LEFT].reverse().find((d) => left <= d * DAY_MS);
  if (daysLeft === undefined) return null;
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return {
    partnerId: profile.partnerId,
    type: 'refresh_lapse_warning',
    severity: 'warning',
    key: `refresh-lapse:${profile.id}:${daysLeft}:${tokenUsedAt}`,
    appProfileId: profile.id,
    title: `${profile.name}: authorization lapses in ${daysLeft} days`,
    message: `Microsoft has not accepted a refresh of this profile’s authorization since ${day(Date.parse(tokenUsedAt))}. After 90 days without one (on ${day(lapsesAt)}) it expires and user management stops.`,
    fix: 'Click Check now on the profile. If Microsoft still cannot be reached, re-authorize the app before that day.',
    link: PROFILES_PAGE,
    data: { ...profileData(profile), daysLeft, lastRefreshAt: tokenUsedAt, lapsesAt: new Date(lapsesAt).toISOString() },
  };
}

/** The refreshed token lacks permissions the profile needs (for example one removed in Entra). */
export function permissionDrift(profile: ProfileRef, missing: readonly string[]): NotificationEvent {
  return {
    partnerId: profile.partnerId,
    type: 'permission_drift',
    severity: 'error',
    key: `permission-drift:${profile.id}`,
    episode: 'open',
    appProfileId: profile.id,
    title: `Permissions missing: ${profile.name}`,
    message: `Microsoft no longer grants ${missing.join(', ')} to Tenantgate in this tenant (removed from the app's consent, for example in Microsoft Entra). What needs ${missing.length === 1 ? 'it' : 'them'} fails: adding users and groups, Browse, or the directory sync.`,
    fix: 'Re-authorize the app with a Global Administrator, who consents to every permission again.',
    link: PROFILES_PAGE,
    data: { ...profileData(profile), missing: [...missing] },
  };
}

export function permissionsRestored(profile: ProfileRef): NotificationEvent {
  return {
    partnerId: profile.partnerId,
    type: 'permissions_restored',
    severity: 'resolved',
    key: `permission-drift:${profile.id}`,
    episode: 'resolve',
    appProfileId: profile.id,
    title: `Permissions complete again: ${profile.name}`,
    message: 'Microsoft grants every permission Tenantgate needs in this tenant again.',
    link: PROFILES_PAGE,
    data: profileData(profile),
  };
}

/** Checks of a profile may fail this long (Microsoft unreachable, refreshes refused for a non-grant reason) before an alert. */
export const FAILING_ALERT_AFTER_MS = DAY_MS;

/** Health checks failing for 24 hours since the last successful refresh (`tokenUsedAt`), or null before that. */
export function checksFailing(profile: ProfileRef, tokenUsedAt: string, failure: string, now: Date): NotificationEvent | null {
  if (now.getTime() - Date.parse(tokenUsedAt) < FAILING_ALERT_AFTER_MS) return null;
  return {
    partnerId: profile.partnerId,
    type: 'checks_failing',
    severity: 'warning',
    key: `checks-failing:${profile.id}`,
    episode: 'open',
    appProfileId: profile.id,
    title: `Checks failing for 24 hours: ${profile.name}`,
    message: `The authorization of this profile could not be refreshed since ${tokenUsedAt.slice(0, 16).replace('T', ' ')} UTC. Last failure: ${failure}`,
    fix: 'Nothing is lost yet: Tenantgate keeps trying. If it lasts, check Microsoft 365 service health and the portal’s outbound network, then click Check now.',
    link: PROFILES_PAGE,
    data: { ...profileData(profile), lastRefreshAt: tokenUsedAt, failure },
  };
}

export function checksRestored(profile: ProfileRef): NotificationEvent {
  return {
    partnerId: profile.partnerId,
    type: 'checks_restored',
    severity: 'resolved',
    key: `checks-failing:${profile.id}`,
    episode: 'resolve',
    appProfileId: profile.id,
    title: `Checks succeed again: ${profile.name}`,
    message: 'Microsoft accepted a refresh of the authorization again.',
    link: PROFILES_PAGE,
    data: profileData(profile),
  };
}

/** The directory sync of a profile failing for a day since its last completed run (`lastSyncedAt`), or null before that. */
export function directorySyncFailing(profile: ProfileRef, lastSyncedAt: string, reason: string, now: Date): NotificationEvent | null {
  if (now.getTime() - Date.parse(lastSyncedAt) < FAILING_ALERT_AFTER_MS) return null;
  return {
    partnerId: profile.partnerId,
    type: 'directory_sync_failing',
    severity: 'warning',
    key: `directory-sync:${profile.id}`,
    episode: 'open',
    appProfileId: profile.id,
    title: `Directory sync failing for a day: ${profile.name}`,
    message: `Names, disabled accounts and group memberships from this tenant were last brought up to date at ${lastSyncedAt.slice(0, 16).replace('T', ' ')} UTC (${reason}). People disabled or removed in Microsoft 365 since then keep their portal sessions until it works again.`,
    fix: 'Click Check now on the profile; if Microsoft refuses, re-authorize the app.',
    link: PROFILES_PAGE,
    data: { ...profileData(profile), lastSyncedAt, reason },
  };
}

export function directorySyncRestored(profile: ProfileRef): NotificationEvent {
  return {
    partnerId: profile.partnerId,
    type: 'directory_sync_restored',
    severity: 'resolved',
    key: `directory-sync:${profile.id}`,
    episode: 'resolve',
    appProfileId: profile.id,
    title: `Directory sync works again: ${profile.name}`,
    message: 'The tenant’s users and groups are up to date again.',
    link: PROFILES_PAGE,
    data: profileData(profile),
  };
}

interface GroupRef {
  partnerId: string;
  id: string;
  email: string;
  appProfileId: string | null;
}

export function groupDownloadFailed(group: GroupRef, message: string): NotificationEvent {
  return {
    partnerId: group.partnerId,
    type: 'group_download_failed',
    severity: 'warning',
    key: `group-download:${group.id}`,
    episode: 'open',
    appProfileId: group.appProfileId,
    title: `Member download failed: ${group.email}`,
    message: `${message}. Members who are not downloaded yet cannot sign in through this group.`,
    fix: 'Open User management and download the group’s members again; if its app profile expired, re-authorize it first.',
    link: USERS_PAGE,
    data: { group: { id: group.id, email: group.email } },
  };
}

export function groupDownloadRestored(group: GroupRef, members: number): NotificationEvent {
  return {
    partnerId: group.partnerId,
    type: 'group_download_restored',
    severity: 'resolved',
    key: `group-download:${group.id}`,
    episode: 'resolve',
    appProfileId: group.appProfileId,
    title: `Member download completed: ${group.email}`,
    message: `All ${members} members are downloaded.`,
    link: USERS_PAGE,
    data: { group: { id: group.id, email: group.email }, members },
  };
}

interface LinkRef {
  partnerId: string;
  id: string;
  profileName: string;
  profileId: string | null;
}

export function consentLinkEvent(link: LinkRef, what: 'used' | 'expired' | 'revoked', outcome?: string): NotificationEvent {
  const texts = {
    used: { title: `Consent link used: ${link.profileName}`, message: outcome === 'created' ? `A Global Administrator connected the tenant as “${link.profileName}”.` : `A Global Administrator authorized “${link.profileName}” again.`, severity: 'info' as const },
    expired: { title: `Consent link expired: ${link.profileName}`, message: 'Nobody used the link within 72 hours. Send a new link or authorize in the portal.', severity: 'warning' as const },
    revoked: { title: `Consent link revoked: ${link.profileName}`, message: 'The link was withdrawn and no longer works.', severity: 'info' as const },
  }[what];
  return {
    partnerId: link.partnerId,
    type: `consent_link_${what}`,
    severity: texts.severity,
    key: `consent-link-${what}:${link.id}`,
    appProfileId: link.profileId,
    title: texts.title,
    message: texts.message,
    link: PROFILES_PAGE,
    data: { consentLink: { id: link.id, profileName: link.profileName }, ...(outcome ? { outcome } : {}) },
  };
}
