import { AppRegistry } from './apps';
import { SandboxClock } from './clock';
import { CLOUD_NAMES, cloudUrls, type CloudUrls, type SandboxCloudName } from './clouds';
import { ConsentStore } from './consent';
import { Directory } from './directory';
import { buildTenants, type SandboxFixture } from './fixture';
import { preserializeUsers } from './graph/serialize';
import { GraphTraffic } from './graph/traffic';
import type { AuthorizeFlow } from './identity/flows';
import { GrantStore } from './identity/grants';
import { IdTokenTampering } from './identity/tamper';
import { SessionStore } from './identity/sessions';
import { createSigningKey, type CloudSigningKey } from './keys';
import { inMemoryOnly, type StateSink } from './state-sink';
import { applyTenantChange, type TenantChange } from './tenant-changes';

/** Where a new fixture is recorded; the state file implements it, memory-only sandboxes do not need it. */
export interface FixtureRecorder {
  replaceTenants(fixture: SandboxFixture, epochs: Record<string, string>): void;
}

/**
 * Everything the sandbox remembers. One instance per running sandbox. With a state folder every store writes
 * its changes through `sink` (see persistence.ts); sign-in flows in progress stay in memory only.
 */
export class SandboxState {
  private base = '';
  /** `urls(cloud)` of the current base URL, computed once per cloud (they are read on every request). */
  private readonly urlsByCloud = new Map<SandboxCloudName, CloudUrls>();
  readonly clock: SandboxClock;
  readonly keys: Record<SandboxCloudName, CloudSigningKey>;
  readonly directory = new Directory();
  readonly apps: AppRegistry;
  readonly consents: ConsentStore;
  readonly sessions: SessionStore;
  readonly grants: GrantStore;
  readonly flows = new Map<string, AuthorizeFlow>();
  readonly traffic: GraphTraffic;
  readonly idTokenTampering: IdTokenTampering;

  constructor(
    private readonly sink: StateSink & Partial<FixtureRecorder> = inMemoryOnly,
    keys?: Record<SandboxCloudName, CloudSigningKey>,
  ) {
    this.keys = keys ?? (Object.fromEntries(CLOUD_NAMES.map((cloud) => [cloud, createSigningKey()])) as Record<SandboxCloudName, CloudSigningKey>);
    this.clock = new SandboxClock(sink);
    this.apps = new AppRegistry(sink);
    this.consents = new ConsentStore(sink);
    this.sessions = new SessionStore(sink);
    this.grants = new GrantStore(sink);
    this.traffic = new GraphTraffic(sink);
    this.idTokenTampering = new IdTokenTampering(sink);
  }

  /** Where the sandbox answers (`http://host:port`), set once it listens. */
  get baseUrl(): string {
    return this.base;
  }

  set baseUrl(value: string) {
    this.base = value;
    this.urlsByCloud.clear();
  }

  urls(cloud: SandboxCloudName): CloudUrls {
    let urls = this.urlsByCloud.get(cloud);
    if (!urls) {
      urls = freezeUrls(cloudUrls(this.base, cloud));
      this.urlsByCloud.set(cloud, urls);
    }
    return urls;
  }

  /** Replaces every tenant; nothing that referred to the old tenants (consents, tokens, sessions) stays valid. */
  installFixture(fixture: SandboxFixture): void {
    const tenants = buildTenants(fixture);
    this.directory.replaceAll(tenants);
    preserializeUsers(tenants);
    this.consents.clear();
    this.sessions.clear();
    this.grants.clear();
    this.flows.clear();
    this.traffic.reset();
    this.idTokenTampering.clear();
    this.sink.replaceTenants?.(fixture, Object.fromEntries(tenants.map((t) => [t.id, t.epoch])));
  }

  /** A tenant change from the control endpoints: applied, then recorded so a restart replays it. */
  changeTenant(change: TenantChange): void {
    applyTenantChange(this.directory, change);
    this.sink.appendChange(change);
  }
}

/** Shared by every request, so nobody may change them. */
function freezeUrls(urls: CloudUrls): CloudUrls {
  Object.freeze(urls.graphHosts);
  return Object.freeze(urls);
}
