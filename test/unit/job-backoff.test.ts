import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffMs } from '../../src/server/jobs/queue';

describe('the job queue backoff', () => {
  it('doubles from 5 s per failed attempt, capped at 30 minutes, jittered within the upper half', () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(n, () => 1))).toEqual([5_000, 10_000, 20_000, 40_000]);
    expect([1, 2, 3, 4].map((n) => backoffMs(n, () => 0))).toEqual([2_500, 5_000, 10_000, 20_000]);
    expect(backoffMs(30, () => 1)).toBe(30 * 60_000);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempts, r) => {
        const ceiling = Math.min(30 * 60_000, 5_000 * 2 ** (attempts - 1));
        const wait = backoffMs(attempts, () => r);
        return wait >= ceiling / 2 && wait <= ceiling;
      }),
    );
  });

  it('spreads jobs that failed together: 100 retries of the same attempt fall on many different moments', () => {
    const waits = new Set(Array.from({ length: 100 }, () => backoffMs(3)));
    expect(waits.size).toBeGreaterThan(90);
  });
});
