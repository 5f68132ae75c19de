export type Role = 'administrator' | 'member';
export type CloudId = 'global' | 'usgov';

export interface SessionUser {
  id: string;
  email: string;
  displayName: string | null;
  role: Role;
  isOwner: boolean;
  signInType: string;
}

export interface Partner {
  id: string;
  name: string;
}

export interface Session {
  user: SessionUser;
  partner: Partner;
  csrfToken: string;
}

export interface SandboxInfo {
  enabled: boolean;
  baseUrl?: string;
}

export interface CloudOption {
  id: CloudId;
  label: string;
}

export interface StatusReason {
  code: string;
  message: string;
  fix?: string;
}

export interface AppProfile {
  id: string;
  name: string;
  status: 'active' | 'authorization_expired';
  statusReason: StatusReason | null;
  cloud: CloudId;
  tenantId: string;
  tenantName: string | null;
  tenantDomain: string | null;
  authorizedBy: string | null;
  authorizedAt: string | null;
  lastCheckedAt: string | null;
  lapsesAt?: string | null;
  lastCheckError?: { at: string; message: string } | null;
  grantedScopes?: string[];
  inUse?: { users: number; groups: number };
  createdAt: string;
  updatedAt: string;
}

export interface AuthorizationUrlAnswer {
  authorizationUrl: string;
}

export interface BlockedItem {
  id: string;
  name?: string;
  email?: string;
  code: string;
  message?: string;
  inUse?: { users: number; groups: number };
}

export interface DeleteAnswer {
  deleted: string[];
  blocked: BlockedItem[];
}

export interface User {
  id: string;
  email: string;
  displayName: string | null;
  signInType: 'local' | 'microsoft365';
  kind: 'user' | 'group';
  role: Role;
  appProfileId: string | null;
  appProfileName?: string | null;
  status: 'invited' | 'active' | 'disabled';
  isOwner?: boolean;
  progress?: { done: number; total: number } | null;
  createdAt: string;
}

export interface Page<T> {
  items: T[];
  nextCursor?: string | null;
}

export interface AddUsersRequest {
  signInType: 'local' | 'microsoft365';
  emails: string[];
  appProfileId?: string;
  role: Role;
}

export interface AddUsersAnswer {
  added: User[];
  rejected: { email: string; code: string; message: string }[];
  invitations?: { email: string; activationUrl: string }[];
  invitationsEmailed?: number;
}

export interface DirectoryEntry {
  id: string;
  displayName: string;
  email: string | null;
  kind: 'user' | 'group';
}

export interface AuditEntry {
  id: string;
  at: string;
  actorEmail: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  targetName: string | null;
  outcome: 'success' | 'failure';
  clientAddress: string | null;
  details?: unknown;
}

export interface SignInChoice {
  partnerId: string;
  partnerName: string;
}
