import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRefusalHold } from '../../src/server/security/refusal-hold';

describe('refusal hold', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('holds each refusal for the configured time, and past the cap answers at once', async () => {
    vi.useFakeTimers();
    const hold = createRefusalHold(500, 2, () => 0);
    const done: string[] = [];
    const first = hold.wait().then(() => done.push('first'));
    const second = hold.wait().then(() => done.push('second'));
    const third = hold.wait().then(() => done.push('third (over the cap)'));
    expect(hold.held).toBe(2);
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toEqual(['third (over the cap)']);
    await vi.advanceTimersByTimeAsync(499);
    expect(done).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await Promise.all([first, second, third]);
    expect(done).toEqual(['third (over the cap)', 'first', 'second']);
    expect(hold.held).toBe(0);
  });

  it('answers at once when the hold is 0', async () => {
    vi.useFakeTimers();
    const hold = createRefusalHold(0);
    let answered = false;
    void hold.wait().then(() => (answered = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(answered).toBe(true);
    expect(hold.held).toBe(0);
  });

  it('spreads a wave of refusals over half a hold again, so they do not all go out at one instant', async () => {
    vi.useFakeTimers();
    const draws = [0, 0.5, 0.995];
    const hold = createRefusalHold(400, 10, () => draws.shift()!);
    const answeredAt: number[] = [];
    const start = Date.now();
    const waits = [0, 1, 2].map(() => hold.wait().then(() => answeredAt.push(Date.now() - start)));
    await vi.advanceTimersByTimeAsync(1000);
    await Promise.all(waits);
    expect(answeredAt).toEqual([400, 500, 599]);
  });
});
