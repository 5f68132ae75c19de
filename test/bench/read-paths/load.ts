import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import autocannon from 'autocannon';
import type { ServeReady } from './serve';

const SERVE = path.join(import.meta.dirname, 'serve.ts');

export interface Server extends ServeReady {
  process: ChildProcess;
  /** Sends a message and waits for the given answer. */
  ask(message: unknown, answer: string): Promise<void>;
  /** Asks the server to close and waits for its exit (so a CPU profile is written). */
  stop(): Promise<void>;
}

/** Starts serve.ts in its own process (see there) and waits until it listens. */
export async function startServer(args: string[], options: { nodeOptions?: string[] } = {}): Promise<Server> {
  const child = spawn(process.execPath, [...(options.nodeOptions ?? []), '--import', 'tsx', SERVE, ...args], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: process.env,
  });
  const ready = await new Promise<ServeReady>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bench server did not start in 120 s')), 120_000);
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve(message as ServeReady);
    });
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    ...ready,
    process: child,
    ask: (message, answer) =>
      new Promise<void>((resolve) => {
        const onMessage = (reply: unknown) => {
          if (reply !== answer) return;
          child.off('message', onMessage);
          resolve();
        };
        child.on('message', onMessage);
        child.send(message as object);
      }),
    async stop() {
      if (child.exitCode === null) child.send('stop');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface Load {
  requestsPerSecond: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

/** Hammers one path for `seconds` with `connections` keep-alive connections (no pipelining). */
export async function hammer(url: string, pathAndQuery: string, options: { cookie?: string; connections?: number; seconds?: number } = {}): Promise<Load> {
  const result = await autocannon({
    url: new URL(pathAndQuery, url).toString(),
    connections: options.connections ?? 64,
    duration: options.seconds ?? 5,
    headers: options.cookie ? { cookie: options.cookie } : {},
  });
  return {
    requestsPerSecond: result.requests.average,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/** The body the portal answers for a path, as bytes in a string (to serve the same from memory). */
export async function answerOf(url: string, pathAndQuery: string, cookie?: string): Promise<string> {
  const res = await fetch(new URL(pathAndQuery, url), { headers: cookie ? { cookie } : {} });
  if (res.status !== 200) throw new Error(`${pathAndQuery} answered ${res.status}`);
  return res.text();
}
