import { z } from 'zod';
import type { UserListRow } from './store';

export const userSchema = z.object({
  id: z.string(),
  email: z.string(),
  displayName: z.string(),
  signInType: z.enum(['local', 'microsoft365']),
  kind: z.enum(['user', 'group']),
  role: z.enum(['administrator', 'member']),
  appProfileId: z.string().nullable(),
  appProfileName: z.string().nullable(),
  status: z.enum(['invited', 'active', 'disabled']),
  isOwner: z.boolean(),
  progress: z.object({ done: z.number(), total: z.number() }).nullable().describe('Membership download of a group while it runs (or after it failed); null otherwise'),
  syncError: z.object({ at: z.string(), message: z.string() }).nullable().describe('Why the last membership download of a group failed; null otherwise'),
  lastSyncedAt: z.string().nullable().describe('When a group’s members were last downloaded (or a person last synced); null before the first time'),
  memberCount: z
    .number()
    .int()
    .nullable()
    .describe('A group’s members (people, through nested groups too) as stored: the last completed download, kept up to date by sign-ins and the directory sync; it grows while a download runs. Null for a person'),
  viaGroupId: z.string().nullable().describe('The added group through which this member signed in'),
  createdAt: z.string(),
});
export type UserView = z.infer<typeof userSchema>;

/** The API's User: what an administrator may see, never a password hash or an activation token. */
export function toUserView(row: UserListRow, syncError: { at: string; message: string } | null = null): UserView {
  return {
    id: row.id,
    email: row.email,
    displayName: row.display_name,
    signInType: row.sign_in_type,
    kind: row.kind,
    role: row.role,
    appProfileId: row.app_profile_id,
    appProfileName: row.app_profile_name ?? null,
    status: row.status,
    isOwner: row.is_owner === 1,
    progress: row.sync_total === null || row.sync_total === undefined ? null : { done: Number(row.sync_done ?? 0), total: Number(row.sync_total) },
    syncError,
    lastSyncedAt: row.last_synced_at ?? null,
    memberCount: row.member_count === null || row.member_count === undefined ? null : Number(row.member_count),
    viaGroupId: row.via_group_id ?? null,
    createdAt: row.created_at,
  };
}
