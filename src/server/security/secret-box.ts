import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM for secrets at rest (refresh tokens). Each ciphertext carries the id of the key that
 * sealed it, so keys can be rotated: the first key seals, every listed key opens.
 * Format: `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts). `aad` binds a ciphertext to its row.
 */
export interface SecretBox {
  seal(plaintext: string, aad: string): string;
  open(sealed: string, aad: string): string;
  readonly currentKeyId: string;
}

export class SecretBoxError extends Error {}

export function parseKeyList(list: string): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  for (const entry of list.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [id, material] = entry.split(':');
    const key = Buffer.from(material ?? '', 'base64');
    if (!id || !/^[A-Za-z0-9_-]{1,32}$/.test(id) || key.length !== 32) {
      throw new SecretBoxError('Invalid setting TENANTGATE_ENCRYPTION_KEYS: expected keyId:base64 pairs of 32-byte keys, comma separated');
    }
    keys.set(id, key);
  }
  if (keys.size === 0) throw new SecretBoxError('Invalid setting TENANTGATE_ENCRYPTION_KEYS: no key given');
  return keys;
}

export function createSecretBox(keys: Map<string, Buffer>): SecretBox {
  const [currentKeyId, currentKey] = [...keys.entries()][0];
  return {
    currentKeyId,
    seal(plaintext, aad) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', currentKey, iv);
      cipher.setAAD(Buffer.from(aad));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const parts = [iv, cipher.getAuthTag(), ciphertext].map((b) => b.toString('base64url'));
      return ['v1', currentKeyId, ...parts].join('.');
    },
    open(sealed, aad) {
      const [version, keyId, iv, tag, ciphertext] = sealed.split('.');
      const key = keys.get(keyId);
      if (version !== 'v1' || !key || !ciphertext) throw new SecretBoxError(`Cannot open secret sealed with key ${keyId ?? '?'}`);
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(aad));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}
