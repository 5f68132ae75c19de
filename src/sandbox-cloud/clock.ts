import { inMemoryOnly, type StateSink } from './state-sink';

/**
 * The sandbox clock: real time plus an offset that `POST /_sandbox/clock` moves forward.
 * Every expiry check (codes, access tokens, refresh-token inactivity, throttle windows) reads it,
 * so tests can age tokens without waiting.
 */
export class SandboxClock {
  private offsetMs = 0;

  constructor(private readonly sink: StateSink = inMemoryOnly) {}

  restore(offsetMs: number): void {
    this.offsetMs = offsetMs;
  }

  /** Milliseconds the sandbox is ahead of real time. */
  get offsetMilliseconds(): number {
    return this.offsetMs;
  }

  nowMs(): number {
    return Date.now() + this.offsetMs;
  }

  nowSeconds(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  now(): Date {
    return new Date(this.nowMs());
  }

  advance(seconds: number): void {
    this.offsetMs += Math.round(seconds * 1000);
    this.sink.setMeta('clockOffsetMs', this.offsetMs);
  }

  get offsetSeconds(): number {
    return this.offsetMs / 1000;
  }
}
