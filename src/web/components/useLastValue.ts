import { useRef } from 'react';

/**
 * The last value that was not null: a dialog keeps showing what it was opened for while it closes, so its content
 * does not vanish under the focus before the dialog hands focus back to the button that opened it.
 */
export function useLastValue<T>(value: T | null): T | null {
  const last = useRef<T | null>(value);
  if (value !== null) last.current = value;
  return last.current;
}
