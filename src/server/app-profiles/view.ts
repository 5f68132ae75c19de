import { CLOUDS } from '../microsoft/clouds';
import { z } from 'zod';
import { reasonOf } from './errors';
import { REFRESH_TOKEN_INACTIVITY_MS } from './health';
import type { AppProfileListRow, InUse } from './store';

export const appProfileSchema = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(['active', 'authorization_expired']),
  statusReason: z.object({ code: z.string(), message: z.string(), fix: z.string() }).nullable(),
  cloud: z.enum(CLOUDS),
  tenantId: z.string(),
  tenantName: z.string(),
  tenantDomain: z.string(),
  authorizedBy: z.string(),
  authorizedAt: z.string(),
  lastCheckedAt: z.string().nullable(),
  lastCheckError: z.object({ at: z.string(), message: z.string() }).nullable(),
  lapsesAt: z.string().nullable().describe('When an unused authorization would lapse (90 days after Microsoft last accepted it)'),
  grantedScopes: z.array(z.string()),
  inUse: z.object({ users: z.number(), groups: z.number() }),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type AppProfileView = z.infer<typeof appProfileSchema>;

/** The API's AppProfile: everything a partner admin may see, and no token material at all. */
export function toAppProfileView(row: AppProfileListRow, inUse: InUse): AppProfileView {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    statusReason: row.status === 'active' ? null : reasonOf(row),
    cloud: row.cloud,
    tenantId: row.tenant_id,
    tenantName: row.tenant_name,
    tenantDomain: row.tenant_domain,
    authorizedBy: row.authorized_by_upn,
    authorizedAt: row.authorized_at,
    lastCheckedAt: row.last_checked_at,
    lastCheckError: row.last_check_error_at ? { at: row.last_check_error_at, message: row.last_check_error_message ?? '' } : null,
    lapsesAt: row.status === 'active' ? new Date(Date.parse(row.token_used_at) + REFRESH_TOKEN_INACTIVITY_MS).toISOString() : null,
    grantedScopes: JSON.parse(row.granted_scopes) as string[],
    inUse,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
