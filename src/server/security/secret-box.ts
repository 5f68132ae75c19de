import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM for secrets at rest (refresh tokens). Each ciphertext carries the id of the key that
 * sealed it, so keys can be rotated: the first key seals, every listed key opens.
 * Format: `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts). `aad` binds a ciphertext to its row.
 */
export interface SecretBox {
  seal(plaintext: string, aad: string): string;
  open(sealed: string, aad: string): string;
  /** A 32-byte key for another use (e.g. signing a cookie), derived from the current key with HKDF. */
  deriveKey(purpose: string): Buffer;
  readonly currentKeyId: string;
}

/** GCM's full 16-byte tag: a shorter one would make forging a ciphertext far cheaper. */
const TAG_LENGTH = 16;
const IV_LENGTH = 12;

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
    deriveKey(purpose) {
      return Buffer.from(hkdfSync('sha256', currentKey, Buffer.alloc(0), `tenantgate:${purpose}`, 32));
    },
    seal(plaintext, aad) {
      const iv = randomBytes(IV_LENGTH);
      const cipher = createCipheriv('aes-256-gcm', currentKey, iv, { authTagLength: TAG_LENGTH });
      cipher.setAAD(Buffer.from(aad));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const parts = [iv, cipher.getAuthTag(), ciphertext].map((b) => b.toString('base64url'));
      return ['v1', currentKeyId, ...parts].join('.');
    },
    open(sealed, aad) {
      const [version, keyId, iv, tag, ciphertext] = sealed.split('.');
      const key = keys.get(keyId);
      if (version !== 'v1' || !key || ciphertext === undefined) throw new SecretBoxError(`Cannot open secret sealed with key ${keyId ?? '?'}`);
      const ivBytes = Buffer.from(iv, 'base64url');
      const tagBytes = Buffer.from(tag, 'base64url');
      // Node accepts truncated tags (down to 4 bytes) unless told otherwise: insist on the full 16.
      if (ivBytes.length !== IV_LENGTH || tagBytes.length !== TAG_LENGTH) throw new SecretBoxError('Cannot open secret: malformed IV or authentication tag');
      const decipher = createDecipheriv('aes-256-gcm', key, ivBytes, { authTagLength: TAG_LENGTH });
      decipher.setAAD(Buffer.from(aad));
      decipher.setAuthTag(tagBytes);
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}
