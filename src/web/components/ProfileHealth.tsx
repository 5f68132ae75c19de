import { MessageBar, MessageBarActions, MessageBarBody, MessageBarTitle } from '@fluentui/react-components';
import { useMemo } from 'react';
import { useAppProfiles, useSession } from '../api/hooks';
import type { AppProfile } from '../api/models';
import { usersAndGroups } from '../format';
import { AppLink } from './AppLink';

/**
 * Expired app profiles are a partner-wide emergency (that tenant's people cannot sign in or be managed), so every
 * admin page that matters shares these pieces: the list of expired profiles, a banner with the fix, and the words.
 */
export function useExpiredProfiles(): AppProfile[] {
  const session = useSession();
  const isAdmin = session.data?.user.role === 'administrator';
  const profiles = useAppProfiles(isAdmin);
  return useMemo(() => (profiles.data ?? []).filter((profile) => profile.status !== 'active'), [profiles.data]);
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** "2 users and 1 group affected", counting what User management holds through these profiles. */
export function affectedText(profiles: AppProfile[]): string {
  const users = profiles.reduce((sum, profile) => sum + profile.inUse.users, 0);
  const groups = profiles.reduce((sum, profile) => sum + profile.inUse.groups, 0);
  return `${usersAndGroups({ users, groups })} affected`;
}

export function needsReauthorizationText(count: number): string {
  return `${plural(count, 'app profile needs', 'app profiles need')} re-authorization`;
}

/** Where the fix is: one profile opens its Re-authorize dialog, several open the list. */
export function reauthorizePath(profiles: AppProfile[]): string {
  return profiles.length === 1
    ? `/settings/app-profiles?reauthorize=${encodeURIComponent(profiles[0]!.id)}`
    : '/settings/app-profiles';
}

export function ExpiredProfilesBanner() {
  const expired = useExpiredProfiles();
  if (expired.length === 0) return null;
  const names = expired.map((profile) => `“${profile.name}”`).join(', ');
  return (
    <MessageBar intent="error" layout="multiline">
      <MessageBarBody>
        <MessageBarTitle>
          {needsReauthorizationText(expired.length)} — {affectedText(expired)}
        </MessageBarTitle>
        {names}: their people cannot sign in with Microsoft 365 or be managed until a Global Administrator of the
        tenant signs in again.
      </MessageBarBody>
      <MessageBarActions>
        <AppLink to={reauthorizePath(expired)}>
          {expired.length === 1 ? `Re-authorize ${expired[0]!.name}` : 'Review app profiles'}
        </AppLink>
      </MessageBarActions>
    </MessageBar>
  );
}
