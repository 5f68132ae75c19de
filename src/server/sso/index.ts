import type { AppProfilesFeature } from '../app-profiles/index';
import type { FlowFinisher } from '../auth-flows/routes';
import type { FlowStore } from '../auth-flows/store';
import type { Config } from '../config';
import type { MicrosoftOAuth } from '../microsoft/oauth';
import type { CoreServices } from '../services';

export type SsoFeature = ReturnType<typeof createSsoFeature>;

export function createSsoFeature(_core: CoreServices, _deps: { oauth: MicrosoftOAuth; flows: FlowStore; appProfiles: AppProfilesFeature; config: Config }) {
  const finish: FlowFinisher = async () => '/signin?error=SSO_UNAVAILABLE';
  return { finish };
}
