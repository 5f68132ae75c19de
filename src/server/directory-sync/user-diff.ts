import type { SyncedChanges, SyncedEntry } from '../users/store';

/** A user as Graph's `/users/delta` reports it (removed users come as `{ id, '@removed' }`). */
export interface DeltaUser {
  id: string;
  displayName?: string | null;
  mail?: string | null;
  userPrincipalName?: string | null;
  accountEnabled?: boolean;
  '@removed'?: { reason?: string };
}

export interface UserDiff {
  changes: SyncedChanges;
  /** The entry's sessions end (disabled or deleted in the tenant). */
  endSessions: boolean;
  disabled: boolean;
  enabled: boolean;
}

/**
 * What one delta record means for one portal entry. Status mirrors the tenant's accountEnabled and a
 * deleted user becomes 'disabled'; the name follows the tenant; the email follows when the entry's
 * address is neither the user's mail nor its UPN any more (mail preferred).
 */
export function diffSyncedUser(entry: SyncedEntry, user: DeltaUser): UserDiff {
  const removed = user['@removed'] !== undefined;
  const changes: SyncedChanges = {};
  let endSessions = false;
  if (removed || user.accountEnabled === false) {
    if (entry.status !== 'disabled') changes.status = 'disabled';
    endSessions = true;
  } else if (user.accountEnabled === true && entry.status === 'disabled') {
    changes.status = 'active';
  }
  if (!removed) {
    if (typeof user.displayName === 'string' && user.displayName !== entry.display_name) changes.display_name = user.displayName;
    const known = [user.mail, user.userPrincipalName].filter((v): v is string => typeof v === 'string').map((v) => v.toLowerCase());
    if (known.length > 0 && !known.includes(entry.email_key)) changes.email = known[0];
  }
  return { changes, endSessions, disabled: changes.status === 'disabled', enabled: changes.status === 'active' };
}

/** Group delta records reduce to: which groups changed membership (or went away), and their current names. */
export interface DeltaGroup {
  id: string;
  displayName?: string | null;
  'members@delta'?: { id: string; '@removed'?: unknown }[];
  '@removed'?: { reason?: string };
}

export function changedGroups(items: DeltaGroup[], into: { changed: Set<string>; names: Map<string, string> }): void {
  for (const group of items) {
    if (typeof group.id !== 'string') continue;
    const id = group.id.toLowerCase();
    if (group['@removed'] !== undefined || (group['members@delta']?.length ?? 0) > 0) into.changed.add(id);
    if (typeof group.displayName === 'string') into.names.set(id, group.displayName);
  }
}
