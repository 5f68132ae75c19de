import type { SandboxCloudName } from '../clouds';
import { randomToken } from '../crypto-utils';
import { inMemoryOnly, type StateSink } from '../state-sink';

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

export interface StoredSession {
  id: string;
  cloud: SandboxCloudName;
  accounts: SignedInAccount[];
}

export const sessionCookieName = (cloud: SandboxCloudName): string => `sbx_${cloud}_session`;

export class SessionStore {
  private readonly sessions = new Map<string, BrowserSession>();

  constructor(private readonly sink: StateSink = inMemoryOnly) {}

  find(cloud: SandboxCloudName, id: string | undefined): BrowserSession | undefined {
    const session = id ? this.sessions.get(id) : undefined;
    return session?.cloud === cloud ? session : undefined;
  }

  create(cloud: SandboxCloudName): BrowserSession {
    const session: BrowserSession = { id: randomToken(24), cloud, accounts: new Map() };
    this.sessions.set(session.id, session);
    this.save(session);
    return session;
  }

  signIn(session: BrowserSession, account: SignedInAccount): void {
    session.accounts.set(account.userId, account);
    this.save(session);
  }

  end(id: string): void {
    this.sessions.delete(id);
    this.sink.remove('sessions', id);
  }

  restore(saved: Iterable<StoredSession>): void {
    for (const s of saved) this.sessions.set(s.id, { id: s.id, cloud: s.cloud, accounts: new Map(s.accounts.map((a) => [a.userId, a])) });
  }

  private save(session: BrowserSession): void {
    const stored: StoredSession = { id: session.id, cloud: session.cloud, accounts: [...session.accounts.values()] };
    this.sink.put('sessions', session.id, stored);
  }

  clear(): void {
    this.sessions.clear();
  }
}
