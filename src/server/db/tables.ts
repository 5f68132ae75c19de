/**
 * Row types of every table. Times are ISO 8601 UTC strings and booleans are 0/1 integers on both
 * engines, so one set of queries behaves the same on SQLite and PostgreSQL.
 * Every table that holds partner data carries `partner_id`.
 */
import type { Cloud } from '../microsoft/clouds';

export interface PartnersTable {
  id: string;
  name: string;
  created_at: string;
}

export interface UsersTable {
  id: string;
  partner_id: string;
  email: string;
  /** Lower-cased email, the key for uniqueness and look-ups. */
  email_key: string;
  display_name: string;
  password_hash: string | null;
  role: 'administrator' | 'member';
  is_owner: number;
  sign_in_type: 'local' | 'microsoft365';
  kind: 'user' | 'group';
  status: 'invited' | 'active' | 'disabled';
  /** The app profile a Microsoft 365 user or group was added through (added by migration 002). */
  app_profile_id: string | null;
  created_at: string;
  updated_at: string;
  // Added by migration 003 (user management and single sign-on):
  /** Microsoft 365 entries: the tenant (tid) and the user's or group's object id (oid). */
  ms_tenant_id?: string | null;
  ms_object_id?: string | null;
  /** SHA-256 of a local user's single-use activation token, and when it lapses (72 hours). */
  activation_token_hash?: string | null;
  activation_expires_at?: string | null;
  /** Group entries: progress of the membership download (null when idle). */
  sync_done?: number | null;
  sync_total?: number | null;
  last_synced_at?: string | null;
  /** Group entries: members stored in group_members, kept as they change (migration 017; null for people). */
  member_count?: number | null;
  /** A member's record created at first sign-in through an added group (removed with the group). */
  via_group_id?: string | null;
  // Added by migration 007:
  /** Lower-cased domain of `email_key` (indexed), for single sign-on's domain look-up. */
  email_domain?: string | null;
  /** Group entries: when and why the last membership download failed (cleared when one completes). */
  download_failed_at?: string | null;
  download_failure?: string | null;
}

/** Transitive members (object ids) of added Microsoft 365 groups, kept current by the directory sync. */
export interface GroupMembersTable {
  partner_id: string;
  group_user_id: string;
  member_object_id: string;
  /** The member download run that last stored this row (migration 013); null for rows stored otherwise. */
  download_run: string | null;
}

export interface DirectorySyncStateTable {
  id: string;
  partner_id: string;
  app_profile_id: string;
  resource: 'users' | 'groups';
  /** Graph's @odata.deltaLink to resume from. */
  delta_link: string | null;
  updated_at: string;
}

/** Graph resource units spent per tenant in the current 10-second window, shared by every instance. */
export interface GraphBudgetTable {
  key: string;
  /** Start of the newest second with spending (ISO). */
  window_start: string;
  /** Units spent in the last 11 seconds. */
  units: number;
  /** `{"last": second, "counts": [units per second, oldest first]}`, 11 seconds; null before the first spend. */
  slots: string | null;
}

export interface SessionsTable {
  /** SHA-256 of the cookie value: a leaked table does not leak usable sessions. */
  id: string;
  partner_id: string;
  user_id: string;
  csrf_token: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  client_address: string | null;
  /** Role earned through added Microsoft 365 groups at sign-in (migration 004); the higher role applies. */
  group_role?: 'administrator' | 'member' | null;
}

export interface AuditEventsTable {
  id: string;
  /** Null only for events that belong to no partner (a failed sign-in for an unknown email). */
  partner_id: string | null;
  at: string;
  actor_user_id: string | null;
  actor_email: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  target_name: string | null;
  outcome: 'success' | 'failure';
  client_address: string | null;
  details: string | null;
}

export interface SignInAttemptsTable {
  id: string;
  /** `account:<email>` or `address:<ip>`. */
  key: string;
  at: string;
}

/** The durable job queue (migration 013); JSON columns are text. */
export interface JobsTable {
  id: string;
  kind: string;
  partner_id: string | null;
  key: string;
  payload: string;
  state: 'queued' | 'running' | 'done' | 'failed';
  attempts: number;
  max_attempts: number;
  run_after: string;
  lease_owner: string | null;
  lease_until: string | null;
  last_error: string | null;
  checkpoint: string | null;
  created_at: string;
  updated_at: string;
}

export interface JobLeasesTable {
  name: string;
  holder: string | null;
  lease_until: string;
  last_run_at: string | null;
}

export interface AppProfilesTable {
  id: string;
  partner_id: string;
  name: string;
  /** Lower-cased name: unique within the partner regardless of case. */
  name_key: string;
  cloud: Cloud;
  tenant_id: string;
  /** Graph host name from the tenant's discovery document (`msgraph_host`), e.g. `dod-graph.microsoft.us`. */
  graph_host: string;
  tenant_name: string;
  tenant_domain: string;
  authorized_by_upn: string;
  authorized_by_oid: string;
  /** JSON array of the scopes Microsoft granted. */
  granted_scopes: string;
  status: 'active' | 'authorization_expired';
  status_code: string | null;
  status_message: string | null;
  status_fix: string | null;
  /** AES-256-GCM sealed refresh token (`v1.<keyId>....`), bound to the row id. */
  refresh_token_sealed: string;
  refresh_token_key_id: string;
  authorized_at: string;
  /** Last time Microsoft accepted the refresh token: the 90-day inactivity window runs from here. */
  token_used_at: string;
  last_checked_at: string | null;
  last_check_error_at: string | null;
  last_check_error_message: string | null;
  created_at: string;
  updated_at: string;
}

export interface OAuthFlowsTable {
  /** SHA-256 of the `state` sent to Microsoft. */
  id: string;
  purpose: 'create_profile' | 'reauthorize_profile' | 'sign_in' | 'consent_link';
  /** SHA-256 of the browser-binding cookie set when the flow started. */
  browser_binding: string;
  /** The portal session that started it (profile flows); null for single sign-on. */
  session_id: string | null;
  partner_id: string | null;
  user_id: string | null;
  cloud: Cloud;
  profile_id: string | null;
  profile_name: string | null;
  account: 'current' | 'another' | null;
  login_hint: string | null;
  /** Sealed nonce and PKCE verifier (JSON), bound to the row id. */
  secrets_sealed: string;
  return_to: string | null;
  /** The authorization URL to continue to after signing out at Microsoft ("use another account"). */
  continue_url: string | null;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  /** The consent link a `consent_link` round trip was started from (migration 010). */
  consent_link_id?: string | null;
}

/** Consent links for a Global Administrator without a portal account (migration 010). */
export interface ConsentLinksTable {
  id: string;
  partner_id: string;
  /** SHA-256 of the link's token; the token itself is shown once and never stored. */
  token_hash: string;
  cloud: Cloud;
  profile_name: string;
  /** The profile to re-authorize; null when the link creates one. */
  profile_id: string | null;
  email: string | null;
  created_by: string | null;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  revoked_at: string | null;
  visit_binding: string | null;
  /** `created`, `reauthorized`, or the refusal code of the last attempt (`UNEXPECTED_ERROR` when it failed otherwise). */
  outcome: string | null;
  outcome_profile_id: string | null;
}

/** One row per invitation sent, for the per-partner hourly limit. */
export interface InvitationSendsTable {
  id: string;
  partner_id: string;
  at: string;
}

export interface Tables {
  app_profiles: AppProfilesTable;
  group_members: GroupMembersTable;
  directory_sync_state: DirectorySyncStateTable;
  graph_budget: GraphBudgetTable;
  oauth_flows: OAuthFlowsTable;
  partners: PartnersTable;
  users: UsersTable;
  sessions: SessionsTable;
  audit_events: AuditEventsTable;
  sign_in_attempts: SignInAttemptsTable;
  job_leases: JobLeasesTable;
  jobs: JobsTable;
  sso_choices: SsoChoicesTable;
  invitation_sends: InvitationSendsTable;
  consent_links: ConsentLinksTable;
  notifications: NotificationsTable;
  notification_reads: NotificationReadsTable;
  notification_conditions: NotificationConditionsTable;
  notification_settings: NotificationSettingsTable;
  notification_email_optouts: NotificationEmailOptOutsTable;
  notification_deliveries: NotificationDeliveriesTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
}

/** A partner's alerts (migration 011); `key` is the event's idempotency key, unique per partner. */
export interface NotificationsTable {
  id: string;
  partner_id: string;
  key: string;
  type: string;
  severity: 'error' | 'warning' | 'info' | 'resolved';
  app_profile_id: string | null;
  title: string;
  message: string;
  fix: string | null;
  /** Portal path of the affected object. */
  link: string | null;
  /** JSON object with the event's details. */
  data: string | null;
  /** 1 when the portal channel was on as the event happened. */
  in_portal: number;
  created_at: string;
}

export interface NotificationReadsTable {
  notification_id: string;
  user_id: string;
  partner_id: string;
  read_at: string;
}

/** A lasting condition's episodes: notified once while open; "resolved" closes it (migration 011). */
export interface NotificationConditionsTable {
  partner_id: string;
  condition: string;
  episode: number;
  open: number;
  updated_at: string;
}

export interface NotificationSettingsTable {
  partner_id: string;
  portal_enabled: number;
  email_enabled: number;
  updated_at: string;
}

export interface NotificationEmailOptOutsTable {
  user_id: string;
  partner_id: string;
  created_at: string;
}

/** One row per notification, channel and recipient, taken before sending (each goes out once). */
export interface NotificationDeliveriesTable {
  notification_id: string;
  channel: string;
  recipient: string;
  partner_id: string;
  status: 'sending' | 'sent' | 'failed';
  detail: string | null;
  created_at: string;
}

/** Pending "choose a partner" answers of a Microsoft 365 sign-in (migration 007), bound to the browser. */
export interface SsoChoicesTable {
  id: string;
  /** SHA-256 of the browser binding of the round trip that produced the choices. */
  browser_binding: string;
  choices_sealed: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

/** A partner's webhook endpoint (migration 014); the signing secret sealed with the row's id as associated data. */
export interface WebhooksTable {
  id: string;
  partner_id: string;
  url: string;
  secret_sealed: string;
  enabled: number;
  created_at: string;
  updated_at: string;
}

/** One attempt to deliver an event to a webhook: the receiver's status code, or the error (migration 014). */
export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  partner_id: string;
  event_id: string;
  event_type: string;
  attempt: number;
  status_code: number | null;
  error: string | null;
  at: string;
}
