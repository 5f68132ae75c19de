/**
 * Lets the first event of a key through, then none of that key until `windowMs` has passed: what keeps a flood of
 * anonymous requests from becoming a flood of audit rows. The keys live in this process (like the anonymous rate
 * limits), at most `maxKeys` of them: when full the map starts afresh, which lets a key through early, never blocks one.
 */
export function oncePerWindow(windowMs: number, options: { maxKeys?: number; now?: () => number } = {}): (key: string) => boolean {
  const maxKeys = options.maxKeys ?? 10_000;
  const now = options.now ?? Date.now;
  const quietUntil = new Map<string, number>();
  return (key) => {
    const at = now();
    if ((quietUntil.get(key) ?? 0) > at) return false;
    if (quietUntil.size >= maxKeys) quietUntil.clear();
    quietUntil.set(key, at + windowMs);
    return true;
  };
}
