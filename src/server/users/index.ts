import type { AppProfilesFeature } from '../app-profiles/index';
import type { Config } from '../config';
import type { CoreServices } from '../core-types';
import type { Notify } from '../notifications/events';
import { createGroupMemberDownloads } from './group-members';
import { createInvitationQuota, showToAdministrator } from './invitations';
import { smtpDelivery } from './mail-delivery';
import { createUserService } from './service';
import { createUserStore, type UserStore } from './store';

export type UsersFeature = ReturnType<typeof createUsersFeature>;

/**
 * Wires user management from the core services. Invitations go out by SMTP when it is configured;
 * otherwise (and for any the mail server refuses) the links are handed to the administrator once.
 */
export function createUsersFeature(core: Pick<CoreServices, 'db' | 'engine' | 'audit' | 'sessions' | 'secretBox' | 'jobs'>, deps: { appProfiles: Pick<AppProfilesFeature, 'store' | 'graphs'>; config: Pick<Config, 'smtp' | 'publicUrl' | 'invitationsPerHour'>; store?: UserStore; notify?: Notify }) {
  const store = deps.store ?? createUserStore(core.db, core.engine);
  const downloads = createGroupMemberDownloads({
    store,
    audit: core.audit,
    profileOf: (partnerId, profileId) => deps.appProfiles.store.get(partnerId, profileId),
    graphs: deps.appProfiles.graphs,
    notify: deps.notify,
    jobs: core.jobs,
  });
  const service = createUserService({
    store,
    audit: core.audit,
    sessions: core.sessions,
    appProfiles: deps.appProfiles,
    graphs: deps.appProfiles.graphs,
    box: core.secretBox,
    downloads,
    invitations: deps.config.smtp
      ? smtpDelivery(deps.config.smtp, {
          box: core.secretBox,
          jobs: core.jobs,
          store,
          log: { warn: (details, message) => console.warn(JSON.stringify({ level: 'warn', msg: message, ...details })) },
        })
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
