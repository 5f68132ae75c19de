import type { AppProfilesFeature } from '../app-profiles/index';
import type { TenantGraphs } from '../app-profiles/tenant-graph';
import type { AuditLog } from '../audit/store';
import type { SessionStore } from '../partners/session-store';
import type { SecretBox } from '../security/secret-box';
import type { GroupMemberDownloads } from './group-members';
import type { Invitation, InvitationDelivery, InvitationQuota } from './invitations';
import type { Rejection } from './rules';
import type { UserStore } from './store';
import type { UserView } from './view';

export interface AddInput {
  signInType: 'local' | 'microsoft365';
  emails: string[];
  appProfileId?: string;
  role: 'administrator' | 'member';
}

export interface AddResult {
  added: UserView[];
  rejected: Rejection[];
  invitations?: Invitation[];
  /** Invitations the mail server accepted (SMTP configured). */
  invitationsEmailed?: number;
}

export interface DeleteResult {
  deleted: string[];
  blocked: { id: string; email: string; code: 'OWNER'; message: string }[];
}

export interface DirectoryEntry {
  id: string;
  displayName: string;
  email: string | null;
  kind: 'user' | 'group';
  /** Already one of the partner's users (added, or a member record through an added group). */
  added: boolean;
}

export interface UserServiceDeps {
  store: UserStore;
  audit: AuditLog;
  sessions: SessionStore;
  appProfiles: Pick<AppProfilesFeature, 'store'>;
  graphs: Pick<TenantGraphs, 'run'>;
  box: SecretBox;
  downloads: GroupMemberDownloads;
  invitations: InvitationDelivery;
  /** The per-partner hourly sending limit of invitations. */
  invitationQuota?: InvitationQuota;
  publicUrl: string;
}

