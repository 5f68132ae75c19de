import { describe, expect, it } from 'vitest';
import { checkPasswordStrength, hashPassword, verifyPassword } from '../../src/server/security/passwords';

describe('passwords', () => {
  it('hashes with scrypt and a salt, and verifies', async () => {
    const a = await hashPassword('copper-meadow-sailing-7');
    const b = await hashPassword('copper-meadow-sailing-7');
    expect(a).not.toBe(b);
    expect(await verifyPassword('copper-meadow-sailing-7', a)).toBe(true);
    expect(await verifyPassword('copper-meadow-sailing-8', a)).toBe(false);
  });

  it('refuses short, common, repeated, sequential and self-named passwords', () => {
    for (const p of ['short', 'password123', 'Password1234', 'zzzzzzzzzzzz', 'abcdefghijk', '0123456789', 'qwertyuiop1']) {
      expect(() => checkPasswordStrength(p), p).toThrow();
    }
    expect(() => checkPasswordStrength('jane.doe2024!', { email: 'jane.doe@example.com' })).toThrow();
    expect(() => checkPasswordStrength('copper-meadow-sailing-7', { email: 'jane@example.com' })).not.toThrow();
  });
});
