import { newClientSecret, newGuid, secretsEqual } from './crypto-utils';
import { inMemoryOnly, type StateSink } from './state-sink';

/** A multi-tenant app registration, valid in both clouds. */
export interface AppRegistration {
  clientId: string;
  displayName: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  /** Kept only to compare in constant time; never logged or returned after registration. */
  clientSecret: string;
}

export interface RegisterAppInput {
  displayName: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
}

export class AppRegistry {
  private readonly apps = new Map<string, AppRegistration>();

  constructor(private readonly sink: StateSink = inMemoryOnly) {}

  register(input: RegisterAppInput): { clientId: string; clientSecret: string } {
    const clientId = newGuid();
    const clientSecret = newClientSecret();
    const app: AppRegistration = {
      clientId,
      displayName: input.displayName,
      redirectUris: [...input.redirectUris],
      postLogoutRedirectUris: [...(input.postLogoutRedirectUris ?? [])],
      clientSecret,
    };
    this.apps.set(clientId, app);
    this.sink.put('apps', clientId, app);
    return { clientId, clientSecret };
  }

  /**
   * The registration with this name and these redirect URIs if one exists (a portal restarted against a sandbox
   * that remembers keeps its client id, so the tokens it holds stay valid), else a new one.
   */
  registerOrReuse(input: RegisterAppInput): { clientId: string; clientSecret: string; reused: boolean } {
    const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((v, i) => v === b[i]);
    const existing = this.all().find((app) => app.displayName === input.displayName && same(app.redirectUris, input.redirectUris));
    if (existing) {
      const postLogout = [...(input.postLogoutRedirectUris ?? [])];
      if (!same(existing.postLogoutRedirectUris, postLogout)) {
        existing.postLogoutRedirectUris = postLogout;
        this.sink.put('apps', existing.clientId, existing);
      }
      return { clientId: existing.clientId, clientSecret: existing.clientSecret, reused: true };
    }
    return { ...this.register(input), reused: false };
  }

  restore(apps: AppRegistration[]): void {
    for (const app of apps) this.apps.set(app.clientId, app);
  }

  get(clientId: string | undefined): AppRegistration | undefined {
    return clientId ? this.apps.get(clientId.toLowerCase()) : undefined;
  }

  all(): AppRegistration[] {
    return [...this.apps.values()];
  }

  secretMatches(app: AppRegistration, given: string): boolean {
    return secretsEqual(given, app.clientSecret);
  }
}
