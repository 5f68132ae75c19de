import { describe, expect, it } from 'vitest';
import { mapPool } from '../../src/server/jobs/pool';

describe('mapPool', () => {
  it('keeps at most `concurrency` in flight and answers in input order', async () => {
    let inFlight = 0;
    let most = 0;
    const results = await mapPool([30, 10, 20, 5, 15], 2, async (ms, i) => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, ms));
      inFlight--;
      return i * 10;
    });
    expect(results).toEqual([0, 10, 20, 30, 40]);
    expect(most).toBe(2);
  });

  it('rejects with the first failure and starts no further items', async () => {
    const started: number[] = [];
    await expect(
      mapPool([1, 2, 3, 4], 1, async (n) => {
        started.push(n);
        if (n === 2) throw new Error('boom');
        return n;
      }),
    ).rejects.toThrow('boom');
    expect(started).toEqual([1, 2]);
  });

  it('answers an empty list without calling the work', async () => {
    expect(await mapPool([], 4, async () => 1)).toEqual([]);
  });
});
