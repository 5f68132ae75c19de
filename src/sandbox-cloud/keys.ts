import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
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
  return signingKeyOf(privateKey, publicKey);
}

/** The key as the state folder keeps it (PKCS#8 PEM); the kid is derived, so it comes back the same. */
export function exportSigningKey(key: CloudSigningKey): string {
  return key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

export function importSigningKey(pem: string): CloudSigningKey {
  const privateKey = createPrivateKey(pem);
  return signingKeyOf(privateKey, createPublicKey(privateKey));
}

function signingKeyOf(privateKey: KeyObject, publicKey: KeyObject): CloudSigningKey {
  const jwk = publicKey.export({ format: 'jwk' }) as JWK;
  // Microsoft's kids are a base64url thumbprint-like value; derive one from the modulus.
  const kid = createHash('sha1').update(String(jwk.n)).digest('base64url');
  return { kid, privateKey, publicKey, publicJwk: { kty: 'RSA', use: 'sig', kid, n: jwk.n, e: jwk.e } };
}

export async function signJwt(key: CloudSigningKey, claims: JWTPayload): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid }).sign(key.privateKey);
}
