import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSecretBox, parseKeyList } from '../../src/server/security/secret-box';

const key = () => randomBytes(32).toString('base64');

describe('secret box (AES-256-GCM)', () => {
  it('round-trips any text and never contains the plaintext', () => {
    const box = createSecretBox(parseKeyList(`k1:${key()}`));
    fc.assert(
      fc.property(fc.string({ minLength: 8 }), (text) => {
        const sealed = box.seal(text, 'row-1');
        expect(sealed.startsWith('v1.k1.')).toBe(true);
        expect(sealed).not.toContain(text);
        expect(box.open(sealed, 'row-1')).toBe(text);
      }),
    );
  });

  it('refuses a ciphertext moved to another row or tampered with', () => {
    const box = createSecretBox(parseKeyList(`k1:${key()}`));
    const sealed = box.seal('refresh-token-value', 'profile-a');
    expect(() => box.open(sealed, 'profile-b')).toThrow();
    const parts = sealed.split('.');
    parts[4] = Buffer.from('tampered').toString('base64url');
    expect(() => box.open(parts.join('.'), 'profile-a')).toThrow();
  });

  it('rotates keys: the first key seals, older keys still open', () => {
    const oldKey = key();
    const sealedWithOld = createSecretBox(parseKeyList(`old:${oldKey}`)).seal('secret', 'r');
    const rotated = createSecretBox(parseKeyList(`new:${key()},old:${oldKey}`));
    expect(rotated.open(sealedWithOld, 'r')).toBe('secret');
    expect(rotated.seal('secret', 'r').split('.')[1]).toBe('new');
  });

  it('refuses malformed key lists', () => {
    expect(() => parseKeyList('k1:short')).toThrow(/TENANTGATE_ENCRYPTION_KEYS/);
    expect(() => parseKeyList('')).toThrow(/TENANTGATE_ENCRYPTION_KEYS/);
  });
});

describe('GCM authentication tag (issue 8, item 11)', () => {
  it('refuses a ciphertext whose tag was truncated, which would make forgeries far cheaper', () => {
    const box = createSecretBox(parseKeyList(`k1:${key()}`));
    const parts = box.seal('refresh-token-value', 'profile-a').split('.');
    expect(Buffer.from(parts[3], 'base64url')).toHaveLength(16);
    for (const bytes of [4, 8, 12, 15]) {
      const truncated = [...parts];
      truncated[3] = Buffer.from(parts[3], 'base64url').subarray(0, bytes).toString('base64url');
      expect(() => box.open(truncated.join('.'), 'profile-a'), `${bytes}-byte tag`).toThrow();
    }
    expect(box.open(parts.join('.'), 'profile-a')).toBe('refresh-token-value');
  });

  it('derives distinct keys per purpose from the current key', () => {
    const box = createSecretBox(parseKeyList(`k1:${key()}`));
    expect(box.deriveKey('a')).toHaveLength(32);
    expect(box.deriveKey('a').equals(box.deriveKey('a'))).toBe(true);
    expect(box.deriveKey('a').equals(box.deriveKey('b'))).toBe(false);
  });
});
