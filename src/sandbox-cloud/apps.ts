import { newClientSecret, newGuid, secretsEqual } from './crypto-utils';

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

  register(input: RegisterAppInput): { clientId: string; clientSecret: string } {
    const clientId = newGuid();
    const clientSecret = newClientSecret();
    this.apps.set(clientId, {
      clientId,
      displayName: input.displayName,
      redirectUris: [...input.redirectUris],
      postLogoutRedirectUris: [...(input.postLogoutRedirectUris ?? [])],
      clientSecret,
    });
    return { clientId, clientSecret };
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
