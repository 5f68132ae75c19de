import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT, type JWK, type JWTPayload } from 'jose';

/** One cloud's RS256 signing key. Each cloud has its own, so tokens never verify across clouds. */
export interface CloudSigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: JWK;
}

export function createSigningKey(): CloudSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' }) as JWK;
  // Microsoft's kids are a base64url thumbprint-like value; derive one from the modulus.
  const kid = createHash('sha1').update(String(jwk.n)).digest('base64url');
  return { kid, privateKey, publicKey, publicJwk: { kty: 'RSA', use: 'sig', kid, n: jwk.n, e: jwk.e } };
}

export async function signJwt(key: CloudSigningKey, claims: JWTPayload): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid }).sign(key.privateKey);
}
