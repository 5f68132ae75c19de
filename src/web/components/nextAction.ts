// A page's messages are about the last thing done: when the administrator starts another action, they go.

const NEXT_ACTION = 'tenantgate:next-action';

export function announceNextAction(): void {
  window.dispatchEvent(new Event(NEXT_ACTION));
}

/** Calls `clear` when another action starts; returns the unsubscribe for a useEffect. */
export function onNextAction(clear: () => void): () => void {
  window.addEventListener(NEXT_ACTION, clear);
  return () => window.removeEventListener(NEXT_ACTION, clear);
}
