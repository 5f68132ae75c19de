import type { SandboxCloudName } from '../clouds';
import { randomToken } from '../crypto-utils';

/** The sandbox's browser session (one cookie per cloud), holding every account signed in on that browser. */
export interface SignedInAccount {
  tenantId: string;
  userId: string;
  authTimeMs: number;
}

export interface BrowserSession {
  id: string;
  cloud: SandboxCloudName;
  accounts: Map<string, SignedInAccount>;
}

export const sessionCookieName = (cloud: SandboxCloudName): string => `sbx_${cloud}_session`;

export class SessionStore {
  private readonly sessions = new Map<string, BrowserSession>();

  find(cloud: SandboxCloudName, id: string | undefined): BrowserSession | undefined {
    const session = id ? this.sessions.get(id) : undefined;
    return session?.cloud === cloud ? session : undefined;
  }

  create(cloud: SandboxCloudName): BrowserSession {
    const session: BrowserSession = { id: randomToken(24), cloud, accounts: new Map() };
    this.sessions.set(session.id, session);
    return session;
  }

  end(id: string): void {
    this.sessions.delete(id);
  }

  clear(): void {
    this.sessions.clear();
  }
}
