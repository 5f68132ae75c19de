import { createSecretKey } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import { encodeBase64UrlJson, newGuid, randomToken } from '../crypto-utils';
import type { CloudSigningKey } from '../keys';
import { inMemoryOnly, type StateSink } from '../state-sink';

/**
 * Deliberately broken ID tokens, for tests of a client's validation (`POST /_sandbox/faults` with
 * `"target": "id_token"`): the next N ID tokens (for one tenant, or any) come out with one fault each.
 */
export const ID_TOKEN_TAMPERS = ['aud', 'iss', 'nonce', 'exp', 'alg-none', 'hs256', 'kid', 'other-cloud-key'] as const;
export type IdTokenTamper = (typeof ID_TOKEN_TAMPERS)[number];

interface PendingTamper {
  tamper: IdTokenTamper;
  remaining: number;
  tenantId: string | null;
}

export class IdTokenTampering {
  private pending: PendingTamper | null = null;

  constructor(private readonly sink: StateSink = inMemoryOnly) {}

  set(tamper: IdTokenTamper, requests: number, tenantId: string | null): void {
    this.pending = requests > 0 ? { tamper, remaining: requests, tenantId } : null;
    this.sink.setMeta('idTokenTamper', this.pending);
  }

  restore(saved: PendingTamper | null | undefined): void {
    this.pending = saved ?? null;
  }

  /** The fault for the next ID token of this tenant, if one is pending (and counts it). */
  take(tenantId: string): IdTokenTamper | null {
    const pending = this.pending;
    if (!pending || pending.remaining <= 0 || (pending.tenantId && pending.tenantId !== tenantId)) return null;
    pending.remaining--;
    if (pending.remaining === 0) this.pending = null;
    this.sink.setMeta('idTokenTamper', this.pending);
    return pending.tamper;
  }

  clear(): void {
    this.pending = null;
  }
}

/** Signs `claims` the broken way `tamper` names; `key` is the cloud's key, `otherCloudKey` the other cloud's. */
export async function signTampered(tamper: IdTokenTamper, claims: JWTPayload, key: CloudSigningKey, otherCloudKey: CloudSigningKey): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const sign = (payload: JWTPayload, signer: CloudSigningKey, kid = signer.kid) =>
    new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).sign(signer.privateKey);
  switch (tamper) {
    case 'aud':
      return sign({ ...claims, aud: newGuid() }, key);
    case 'iss':
      // Another tenant's issuer on a token that still names this tenant in `tid`.
      return sign({ ...claims, iss: String(claims.iss).replace(String(claims.tid), newGuid()) }, key);
    case 'nonce':
      return sign({ ...claims, nonce: `not-the-nonce-${randomToken(8)}` }, key);
    case 'exp':
      return sign({ ...claims, iat: now - 7200, nbf: now - 7200, exp: now - 3600 }, key);
    case 'alg-none':
      return `${encodeBase64UrlJson({ alg: 'none', typ: 'JWT' })}.${encodeBase64UrlJson(claims)}.`;
    case 'hs256': {
      // Key confusion: HMAC keyed with the published RSA public key.
      const secret = createSecretKey(Buffer.from(key.publicKey.export({ format: 'pem', type: 'spki' }).toString()));
      return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: key.kid }).sign(secret);
    }
    case 'kid':
      return sign(claims, key, randomToken(20));
    case 'other-cloud-key':
      return sign(claims, otherCloudKey);
  }
}
