import type { SandboxCloudName } from '../clouds';
import { randomToken, sha256 } from '../crypto-utils';
import { inMemoryOnly, type StateSink } from '../state-sink';

/** Authorization codes (single use, 10 minutes) and refresh tokens (90 days of inactivity), kept server-side. */
export const CODE_LIFETIME_MS = 10 * 60 * 1000;
export const REFRESH_INACTIVITY_MS = 90 * 24 * 60 * 60 * 1000;
/**
 * Earlier refresh tokens stay valid after a refresh (as Entra's do), but only the most recent ones per app and user
 * are kept: a portal refreshing hourly would otherwise pile up millions of live tokens in the state folder.
 */
export const REFRESH_TOKENS_KEPT_PER_GRANT = 20;

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

/** Codes and refresh tokens are kept under their SHA-256, so the state folder never holds a usable token. */
const handle = (value: string): string => sha256(value).toString('base64url');

/** A stored code and its handle (the key it is kept under). */
export interface FoundCode {
  key: string;
  code: AuthorizationCode;
}

export class GrantStore {
  private readonly codes = new Map<string, AuthorizationCode>();
  private readonly refreshTokens = new Map<string, RefreshGrant>();
  /** Handles of the live refresh tokens per (cloud, app, tenant, user), oldest first. */
  private readonly chains = new Map<string, string[]>();

  constructor(private readonly sink: StateSink = inMemoryOnly) {}

  issueCode(code: AuthorizationCode): string {
    this.sweepCodes(code.issuedMs);
    const value = `1.${randomToken(48)}`;
    const key = handle(value);
    this.codes.set(key, code);
    this.sink.put('codes', key, code);
    return value;
  }

  /** The code a client presented, with its handle, so redeeming it does not hash the value again. */
  findCode(value: string): FoundCode | undefined {
    const key = handle(value);
    const code = this.codes.get(key);
    return code ? { key, code } : undefined;
  }

  markRedeemed(found: FoundCode): void {
    found.code.redeemed = true;
    this.sink.put('codes', found.key, found.code);
  }

  issueRefreshToken(grant: RefreshGrant): string {
    const value = `1.${randomToken(64)}`;
    const key = handle(value);
    this.refreshTokens.set(key, grant);
    this.sink.put('refresh_tokens', key, grant);
    this.remember(key, grant);
    return value;
  }

  findRefreshToken(value: string): RefreshGrant | undefined {
    return this.refreshTokens.get(handle(value));
  }

  restore(codes: Iterable<[string, AuthorizationCode]>, refreshTokens: Iterable<[string, RefreshGrant]>): void {
    for (const [key, code] of codes) this.codes.set(key, code);
    const sorted = [...refreshTokens].sort(([, a], [, b]) => a.issuedMs - b.issuedMs);
    for (const [key, grant] of sorted) {
      this.refreshTokens.set(key, grant);
      this.remember(key, grant);
    }
  }

  private remember(key: string, grant: RefreshGrant): void {
    const chainKey = `${grant.cloud}|${grant.clientId}|${grant.tenantId}|${grant.userId}`;
    const chain = this.chains.get(chainKey) ?? [];
    chain.push(key);
    this.chains.set(chainKey, chain);
    while (chain.length > REFRESH_TOKENS_KEPT_PER_GRANT) {
      const oldest = chain.shift()!;
      this.refreshTokens.delete(oldest);
      this.sink.remove('refresh_tokens', oldest);
    }
  }

  clear(): void {
    this.codes.clear();
    this.refreshTokens.clear();
    this.chains.clear();
  }

  /** Redeemed codes are kept (to answer AADSTS54005) until well past their life, then dropped. */
  private sweepCodes(nowMs: number): void {
    if (this.codes.size < 10_000) return;
    for (const [key, code] of this.codes) {
      if (nowMs - code.issuedMs > 24 * CODE_LIFETIME_MS) {
        this.codes.delete(key);
        this.sink.remove('codes', key);
      }
    }
  }
}
