import type { FlowStore } from '../auth-flows/store';
import type { CoreServices } from '../core-types';
import type { MicrosoftOAuth } from '../microsoft/oauth';
import type { Notify } from '../notifications/events';
import { createProfileAuthorization } from './authorization';
import { checkProfile } from './check';
import { createGraphBudget, type GraphBudget } from './graph-budget';
import { createProfileHealth } from './health';
import { createAppProfileService } from './service';
import { createAppProfileStore } from './store';
import { createTenantGraphs, type TenantGraphOptions } from './tenant-graph';

export type AppProfilesFeature = ReturnType<typeof createAppProfilesFeature>;

/** Wires the app-profile feature; `graphs` is the one way every feature reaches Graph through a profile. */
export function createAppProfilesFeature(
  core: Pick<CoreServices, 'db' | 'secretBox' | 'microsoft' | 'audit'> & Partial<Pick<CoreServices, 'metrics'>>,
  deps: { oauth: MicrosoftOAuth; flows: FlowStore; publicUrl: string; budget?: GraphBudget; graphUnitsPer10s?: number; graph?: TenantGraphOptions; notify?: Notify },
) {
  const store = createAppProfileStore(core.db);
  const { notify } = deps;
  const health = createProfileHealth({ store, box: core.secretBox, oauth: deps.oauth, audit: core.audit, notify });
  const budget = deps.budget ?? createGraphBudget(core.db, { unitsPerWindow: deps.graphUnitsPer10s });
  const graphs = createTenantGraphs({ microsoft: core.microsoft, tokens: health, budget, metrics: core.metrics }, deps.graph);
  const service = createAppProfileService({ store, check: (row) => checkProfile({ store, health, graphs, notify }, row), audit: core.audit });
  const authorization = createProfileAuthorization({
    store,
    flows: deps.flows,
    oauth: deps.oauth,
    box: core.secretBox,
    microsoft: core.microsoft,
    graphs,
    audit: core.audit,
    publicUrl: deps.publicUrl,
    notify,
  });
  return { store, health, graphs, service, authorization };
}
