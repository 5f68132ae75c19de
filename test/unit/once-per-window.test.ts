import { describe, expect, it } from 'vitest';
import { oncePerWindow } from '../../src/server/security/once-per-window';

describe('once per window', () => {
  it('lets the first event of a key through, none again until the window has passed, other keys on their own', () => {
    let now = 1_000;
    const first = oncePerWindow(60_000, { now: () => now });
    expect([first('a'), first('a'), first('b'), first('a')]).toEqual([true, false, true, false]);
    now += 59_999;
    expect(first('a')).toBe(false);
    now += 1;
    expect([first('a'), first('a'), first('b')]).toEqual([true, false, true]);
  });

  it('keeps at most maxKeys keys: when full it starts afresh (lets a key through early, never blocks one)', () => {
    const first = oncePerWindow(60_000, { maxKeys: 2, now: () => 0 });
    expect([first('a'), first('b'), first('a')]).toEqual([true, true, false]);
    expect(first('c')).toBe(true);
    expect(first('a')).toBe(true);
  });
});
