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

  /**
   * Records a sign-in on the browser's session, starting one when the browser has none (`session` undefined);
   * either way the session is written once.
   */
  signIn(cloud: SandboxCloudName, session: BrowserSession | undefined, account: SignedInAccount): BrowserSession {
    const signedIn = session ?? { id: randomToken(24), cloud, accounts: new Map<string, SignedInAccount>() };
    signedIn.accounts.set(account.userId, account);
    this.sessions.set(signedIn.id, signedIn);
    this.save(signedIn);
    return signedIn;
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
