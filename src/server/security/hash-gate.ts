/**
 * A small semaphore for expensive hashing: at most `concurrency` run at once, at most `queue` wait;
 * beyond that the caller is refused at once, so a flood of anonymous requests costs a bounded amount
 * of memory and CPU and the rest of the portal keeps answering.
 */
export interface HashGateLimits {
  concurrency: number;
  queue: number;
}

/** The gate is full: the caller should answer 503 with Retry-After. */
export class HashingBusyError extends Error {
  readonly retryAfterSeconds = 2;
  constructor() {
    super('The server is busy checking passwords. Try again in a few seconds.');
    this.name = 'HashingBusyError';
  }
}

export function createHashGate(initial: HashGateLimits) {
  let limits = { ...initial };
  let running = 0;
  const waiting: (() => void)[] = [];

  const release = () => {
    running--;
    const next = waiting.shift();
    if (next) {
      running++;
      next();
    }
  };

  return {
    configure(next: HashGateLimits) {
      limits = { ...next };
    },
    load: () => ({ running, waiting: waiting.length }),
    /** Takes a slot (waiting in the queue if need be) or throws HashingBusyError at once; answers its release. */
    async reserve(): Promise<() => void> {
      if (running < limits.concurrency) running++;
      else if (waiting.length < limits.queue) await new Promise<void>((resolve) => waiting.push(resolve));
      else throw new HashingBusyError();
      let released = false;
      return () => {
        if (released) return;
        released = true;
        release();
      };
    },
    async run<T>(work: () => Promise<T>): Promise<T> {
      const done = await this.reserve();
      try {
        return await work();
      } finally {
        done();
      }
    },
  };
}
