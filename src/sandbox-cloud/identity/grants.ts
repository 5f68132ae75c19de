import type { SandboxCloudName } from '../clouds';
import { randomToken } from '../crypto-utils';

/** Authorization codes (single use, 10 minutes) and refresh tokens (90 days of inactivity), kept server-side. */
export const CODE_LIFETIME_MS = 10 * 60 * 1000;
export const REFRESH_INACTIVITY_MS = 90 * 24 * 60 * 60 * 1000;

export interface AuthorizationCode {
  cloud: SandboxCloudName;
  clientId: string;
  redirectUri: string;
  tenantId: string;
  userId: string;
  oidcScopes: string[];
  graphScopes: string[];
  nonce?: string;
  codeChallenge: string;
  issuedMs: number;
  authTimeMs: number;
  redeemed: boolean;
}

export interface RefreshGrant {
  cloud: SandboxCloudName;
  clientId: string;
  tenantId: string;
  userId: string;
  oidcScopes: string[];
  graphScopes: string[];
  issuedMs: number;
  /** When the person signed in; revoking sessions kills every token derived from an earlier sign-in. */
  authTimeMs: number;
}

export class GrantStore {
  private readonly codes = new Map<string, AuthorizationCode>();
  private readonly refreshTokens = new Map<string, RefreshGrant>();

  issueCode(code: AuthorizationCode): string {
    this.sweepCodes(code.issuedMs);
    const value = `1.${randomToken(48)}`;
    this.codes.set(value, code);
    return value;
  }

  findCode(value: string): AuthorizationCode | undefined {
    return this.codes.get(value);
  }

  issueRefreshToken(grant: RefreshGrant): string {
    const value = `1.${randomToken(64)}`;
    this.refreshTokens.set(value, grant);
    return value;
  }

  findRefreshToken(value: string): RefreshGrant | undefined {
    return this.refreshTokens.get(value);
  }

  clear(): void {
    this.codes.clear();
    this.refreshTokens.clear();
  }

  /** Redeemed codes are kept (to answer AADSTS54005) until well past their life, then dropped. */
  private sweepCodes(nowMs: number): void {
    if (this.codes.size < 10_000) return;
    for (const [value, code] of this.codes) if (nowMs - code.issuedMs > 24 * CODE_LIFETIME_MS) this.codes.delete(value);
  }
}
