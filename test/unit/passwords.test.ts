import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkPasswordStrength } from '../../src/server/partners/password-policy';
import { randomBytes, scryptSync } from 'node:crypto';
import { createHashGate, HashingBusyError } from '../../src/server/security/hash-gate';
import { decoyPasswordHash, hashPassword, needsRehash, setPasswordHashingLimits, verifyPassword } from '../../src/server/security/passwords';

describe('passwords', () => {
  it('hashes with scrypt and a salt, and verifies', async () => {
    const a = await hashPassword('copper-meadow-sailing-7');
    const b = await hashPassword('copper-meadow-sailing-7');
    expect(a).not.toBe(b);
    expect(await verifyPassword('copper-meadow-sailing-7', a)).toBe(true);
    expect(await verifyPassword('copper-meadow-sailing-8', a)).toBe(false);
  }, 30_000); // scrypt at N=2^17 takes ~0.5 s per hash, more on a loaded machine

  // Issue 8, item 5: a sign-up flood keeps a core hashing; signed-in requests must still get the CPU first.
  it.runIf(process.platform === 'linux')('hashes on a thread of the lowest CPU priority (nice 19), never on the event loop\'s', async () => {
    /** The nice value of each thread of this process (field 19 of /proc/self/task/<tid>/stat). */
    const niceOf = (tid: string) => {
      try {
        return Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ')[16]);
      } catch {
        return 0; // the thread ended meanwhile
      }
    };
    const niceValues = () => readdirSync('/proc/self/task').map(niceOf);
    const hashing = hashPassword('copper-meadow-sailing-7');
    let seen = false;
    for (let i = 0; i < 200 && !seen; i++) {
      seen = niceValues().includes(19);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await hashing;
    expect(seen).toBe(true);
    expect(niceOf(String(process.pid))).toBe(0); // the event loop's thread keeps its priority
  }, 30_000);

  it('makes the decoy hash for unknown emails once, and tries again after a failure instead of keeping it', async () => {
    setPasswordHashingLimits({ concurrency: 0, queue: 0 }); // every hash is refused as busy
    try {
      await expect(decoyPasswordHash()).rejects.toBeInstanceOf(HashingBusyError);
    } finally {
      setPasswordHashingLimits({ concurrency: 2, queue: 8 });
    }
    const first = decoyPasswordHash();
    expect(decoyPasswordHash()).toBe(first); // shared while it is being made
    const decoy = await first;
    expect(decoy).toMatch(/^scrypt\$/);
    expect(await decoyPasswordHash()).toBe(decoy); // and kept once made
  }, 30_000);

  it('refuses short, common, repeated, sequential and self-named passwords', () => {
    for (const p of ['short', 'password123', 'Password1234', 'zzzzzzzzzzzz', 'abcdefghijk', '0123456789', 'qwertyuiop1']) {
      expect(() => checkPasswordStrength(p), p).toThrow();
    }
    expect(() => checkPasswordStrength('jane.doe2024!', { email: 'jane.doe@example.com' })).toThrow();
    expect(() => checkPasswordStrength('copper-meadow-sailing-7', { email: 'jane@example.com' })).not.toThrow();
  });
});

describe('password hashing parameters (issue 8, item 11)', () => {
  it('hashes with scrypt N=2^17, r=8, p=1, stored with the hash', async () => {
    const hash = await hashPassword('copper-meadow-sailing-7');
    expect(hash).toMatch(/^scrypt\$131072\$8\$1\$/);
    expect(needsRehash(hash)).toBe(false);
  }, 30_000); // scrypt at N=2^17 takes ~0.5 s per hash, more on a loaded machine

  it('still verifies an older, weaker hash and asks for a rehash', async () => {
    const salt = randomBytes(16);
    const key = scryptSync('copper-meadow-sailing-7', salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
    const old = `scrypt$32768$8$1$${salt.toString('base64url')}$${key.toString('base64url')}`;
    expect(await verifyPassword('copper-meadow-sailing-7', old)).toBe(true);
    expect(needsRehash(old)).toBe(true);
  }, 30_000); // scrypt at N=2^17 takes ~0.5 s per hash, more on a loaded machine

  it('refuses a stored hash whose parameters were lowered to make guessing cheap', async () => {
    const salt = randomBytes(16);
    const key = scryptSync('copper-meadow-sailing-7', salt, 32, { N: 2, r: 1, p: 1 });
    expect(await verifyPassword('copper-meadow-sailing-7', `scrypt$2$1$1$${salt.toString('base64url')}$${key.toString('base64url')}`)).toBe(false);
  });
});

describe('hash gate', () => {
  it('runs at most `concurrency` at once and refuses past the queue bound', async () => {
    const gate = createHashGate({ concurrency: 2, queue: 3 });
    let running = 0;
    let peak = 0;
    const work = () =>
      gate.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 20));
        running--;
        return 'done';
      });
    const results = await Promise.allSettled(Array.from({ length: 10 }, work));
    expect(peak).toBe(2);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refused).toHaveLength(5);
    expect(refused[0].reason).toBeInstanceOf(HashingBusyError);
    expect(await work()).toBe('done');
  });
});
