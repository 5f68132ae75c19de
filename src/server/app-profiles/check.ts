import { GraphError } from '../microsoft/graph';
import { profileRestored, type Notify } from '../notifications/events';
import { GraphRefusedError, MicrosoftUnreachableError, ProfileExpiredError } from './errors';
import type { ProfileHealth } from './health';
import type { AppProfileRow, AppProfileStore } from './store';
import type { TenantGraphs } from './tenant-graph';

/** `refused`: the token endpoint honours the authorization but Graph refused a read (shown as a failed check). */
export type CheckOutcome = 'active' | 'expired' | 'unreachable' | 'refused';

/**
 * "Check now": a refresh and a small Graph read that also refreshes the tenant's name and domain. An
 * expired profile is checked too: its grant may have been restored in the tenant.
 */
export async function checkProfile(deps: { store: AppProfileStore; health: Pick<ProfileHealth, 'refresh' | 'recordCheckFailure'>; graphs: TenantGraphs; notify?: Notify }, row: AppProfileRow): Promise<CheckOutcome> {
  if (row.status !== 'active') row = { ...row, status: 'active' };
  try {
    await deps.health.refresh(row, 'check');
    const org = await deps.graphs.run(row, 'interactive', (graph) => graph.organization());
    await deps.store.update(row.partner_id, row.id, {
      status: 'active',
      status_code: null,
      status_message: null,
      status_fix: null,
      tenant_name: org.displayName,
      tenant_domain: org.defaultDomain ?? row.tenant_domain,
    });
    // Ends an "expired" episode, if one is open: a later lapse notifies again.
    await deps.notify?.(profileRestored({ partnerId: row.partner_id, id: row.id, name: row.name, tenantId: row.tenant_id }, 'check'));
    return 'active';
  } catch (error) {
    if (error instanceof ProfileExpiredError) return 'expired';
    if (error instanceof GraphRefusedError) return 'refused';
    if (error instanceof GraphError) {
      await deps.health.recordCheckFailure(row, `Microsoft Graph answered ${error.status || error.code}`);
      return 'unreachable';
    }
    if (error instanceof MicrosoftUnreachableError) return 'unreachable';
    throw error;
  }
}
