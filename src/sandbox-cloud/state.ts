import { AppRegistry } from './apps';
import { SandboxClock } from './clock';
import { CLOUD_NAMES, cloudUrls, type CloudUrls, type SandboxCloudName } from './clouds';
import { ConsentStore } from './consent';
import { Directory } from './directory';
import { GraphTraffic } from './graph/traffic';
import type { AuthorizeFlow } from './identity/flows';
import { GrantStore } from './identity/grants';
import { SessionStore } from './identity/sessions';
import { createSigningKey, type CloudSigningKey } from './keys';

/** Everything the sandbox remembers, in memory. One instance per running sandbox. */
export class SandboxState {
  baseUrl = '';
  readonly clock = new SandboxClock();
  readonly keys: Record<SandboxCloudName, CloudSigningKey>;
  readonly directory = new Directory();
  readonly apps = new AppRegistry();
  readonly consents = new ConsentStore();
  readonly sessions = new SessionStore();
  readonly grants = new GrantStore();
  readonly flows = new Map<string, AuthorizeFlow>();
  readonly traffic = new GraphTraffic();

  constructor() {
    this.keys = Object.fromEntries(CLOUD_NAMES.map((cloud) => [cloud, createSigningKey()])) as Record<SandboxCloudName, CloudSigningKey>;
  }

  urls(cloud: SandboxCloudName): CloudUrls {
    return cloudUrls(this.baseUrl, cloud);
  }

  /** After a fixture replacement nothing that referred to the old tenants stays valid. */
  resetTenantState(): void {
    this.consents.clear();
    this.sessions.clear();
    this.grants.clear();
    this.flows.clear();
    this.traffic.reset();
  }
}
