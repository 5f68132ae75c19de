import type { FlowStore } from '../auth-flows/store';
import type { MicrosoftOAuth } from '../microsoft/oauth';
import type { CoreServices } from '../services';
import { createProfileAuthorization } from './authorization';
import { createProfileHealth } from './health';
import { createAppProfileService } from './service';
import { createAppProfileStore } from './store';

export type AppProfilesFeature = ReturnType<typeof createAppProfilesFeature>;

/** Wires the app-profile feature from the core services. */
export function createAppProfilesFeature(core: CoreServices, deps: { oauth: MicrosoftOAuth; flows: FlowStore; publicUrl: string }) {
  const store = createAppProfileStore(core.db);
  const health = createProfileHealth({ store, box: core.secretBox, oauth: deps.oauth, microsoft: core.microsoft, audit: core.audit });
  const service = createAppProfileService({ store, health, audit: core.audit });
  const authorization = createProfileAuthorization({
    store,
    flows: deps.flows,
    oauth: deps.oauth,
    box: core.secretBox,
    microsoft: core.microsoft,
    audit: core.audit,
    publicUrl: deps.publicUrl,
  });
  return { store, health, service, authorization };
}
