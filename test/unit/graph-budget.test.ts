import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { slotsAt, spend } from '../../src/server/app-profiles/graph-budget';

/** One instance's view, without the database: each request waits as the budget says, then spends. */
function simulate(requests: { atMs: number; cost: number }[], limit: number): { atMs: number; cost: number }[] {
  let saved: string | null = null;
  const spent: { atMs: number; cost: number }[] = [];
  for (const request of [...requests].sort((a, b) => a.atMs - b.atMs)) {
    let at = Math.max(request.atMs, spent.at(-1)?.atMs ?? 0);
    for (;;) {
      const second = Math.floor(at / 1000);
      const outcome = spend(slotsAt(saved, second), request.cost, limit);
      if ('slots' in outcome) {
        saved = JSON.stringify(outcome.slots);
        spent.push({ atMs: at, cost: request.cost });
        break;
      }
      at = (second + outcome.waitSlots) * 1000;
    }
  }
  return spent;
}

describe('the per-tenant Graph budget', () => {
  it('holds across the boundary of a 10-second window: the limit spent at 9.5 s leaves nothing at 10.2 s', () => {
    const spent = simulate([{ atMs: 9_500, cost: 40 }, { atMs: 10_200, cost: 1 }], 40);
    // Graph may count from 9 s or from 0 s: either way the second request must wait until 9.5 s has dropped out.
    expect(spent).toEqual([{ atMs: 9_500, cost: 40 }, { atMs: 20_000, cost: 1 }]);
  });

  it('never lets any 10-second span hold more than the limit, wherever it starts', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ atMs: fc.integer({ min: 0, max: 60_000 }), cost: fc.integer({ min: 1, max: 5 }) }), { maxLength: 200 }), fc.integer({ min: 5, max: 50 }), (requests, limit) => {
        const spent = simulate(requests, limit);
        expect(spent).toHaveLength(requests.length);
        for (const first of spent) {
          const inSpan = spent.filter((s) => s.atMs >= first.atMs && s.atMs < first.atMs + 10_000).reduce((sum, s) => sum + s.cost, 0);
          expect(inSpan).toBeLessThanOrEqual(limit);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('spends the whole limit again once 11 seconds have passed', () => {
    const spent = simulate([{ atMs: 0, cost: 40 }, { atMs: 0, cost: 40 }], 40);
    expect(spent.map((s) => s.atMs)).toEqual([0, 11_000]);
  });
});
