import type { AppProfilesFeature } from '../app-profiles/index';
import type { Config } from '../config';
import type { DirectorySync } from '../directory-sync/index';
import type { CoreServices } from '../services';
import { createGroupMemberDownloads } from './group-members';
import { createInvitationQuota, showToAdministrator } from './invitations';
import { smtpDelivery } from './mail-delivery';
import { createUserService } from './service';
import { createUserStore } from './store';

export type UsersFeature = ReturnType<typeof createUsersFeature>;

/**
 * Wires user management from the core services. Invitations go out by SMTP when it is configured;
 * otherwise (and for any the mail server refuses) the links are handed to the administrator once.
 */
export function createUsersFeature(core: CoreServices, deps: { appProfiles: AppProfilesFeature; directorySync: DirectorySync; config: Config }) {
  const store = createUserStore(core.db, core.engine);
  const downloads = createGroupMemberDownloads({
    store,
    audit: core.audit,
    profileOf: (partnerId, profileId) => deps.appProfiles.store.get(partnerId, profileId),
    graphFor: (profile) => deps.appProfiles.health.graphFor(profile),
  });
  const service = createUserService({
    store,
    audit: core.audit,
    sessions: core.sessions,
    appProfiles: deps.appProfiles,
    downloads,
    invitations: deps.config.smtp
      ? smtpDelivery(deps.config.smtp, { warn: (details, message) => console.warn(JSON.stringify({ level: 'warn', msg: message, ...details })) })
      : showToAdministrator,
    invitationQuota: createInvitationQuota(core.db, deps.config.invitationsPerHour),
    publicUrl: deps.config.publicUrl,
  });
  return {
    store,
    service,
    downloads,
    /** Downloads an added group's transitive members (or joins the download already running); resolves when all are stored. */
    downloadGroupMembers: (partnerId: string, groupUserId: string) => downloads.download(partnerId, groupUserId),
  };
}
