/**
 * Answers to an address that is over its limit are held for a moment before they go out. A flooding client
 * that waits for its answers (every HTTP/1.1 connection does, one request at a time) is then paced by the
 * hold instead of by how fast we can refuse, so a flood costs us a burst of cheap refusals per hold rather
 * than a core. At most `maxHeld` answers wait at once (each is a socket and a timer); past that a refusal
 * goes out at once, so holding can never itself exhaust the process. Each hold lasts between `holdMs` and half as
 * long again, at random: a wave of refusals that arrived together leaves spread out, not as one burst of writes
 * that the signed-in requests of that moment would wait behind.
 */
export interface RefusalHold {
  /** Resolves after the hold, or at once when it is off or full. */
  wait(): Promise<void>;
  /** Answers waiting right now. */
  readonly held: number;
}

export const MAX_HELD_REFUSALS = 1000;

export function createRefusalHold(holdMs: number, maxHeld = MAX_HELD_REFUSALS, random: () => number = Math.random): RefusalHold {
  let held = 0;
  return {
    async wait() {
      if (holdMs <= 0 || held >= maxHeld) return;
      held++;
      try {
        await new Promise((resolve) => setTimeout(resolve, holdMs * (1 + random() / 2)).unref());
      } finally {
        held--;
      }
    },
    get held() {
      return held;
    },
  };
}
