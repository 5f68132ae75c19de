import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { newKey } from '../support/instances';
import { freePort } from '../support/portal-process';

/**
 * Portal instances as deployed behind a load balancer: each `node --import tsx src/server/main.ts` in its own
 * process, all with the same environment (one PostgreSQL, one PUBLIC_URL, one key, one shared sandbox), each
 * on its own port. Logging stays at the deployed default ("info"), written to /dev/null.
 */
export interface PortalInstance {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

/** Several instances need PostgreSQL: TEST_DATABASE_URL (or BENCH_DATABASE_URL) names a server to create a database on. */
export function postgresServerGiven(): boolean {
  if (process.env.BENCH_DATABASE_URL) process.env.TEST_DATABASE_URL ??= process.env.BENCH_DATABASE_URL;
  if (!process.env.TEST_DATABASE_URL) console.log('  skipped: several instances need PostgreSQL (set TEST_DATABASE_URL or BENCH_DATABASE_URL)');
  return Boolean(process.env.TEST_DATABASE_URL);
}

/** `nodeArgs`: e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` for a CPU profile of each instance, written when it stops. */
export async function startPortalProcesses(count: number, env: Record<string, string>, nodeArgs: string[] = []): Promise<PortalInstance[]> {
  const started = await Promise.allSettled(Array.from({ length: count }, () => startPortalProcess(env, nodeArgs)));
  const instances = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(instances.map((i) => i.stop()));
    throw failed.reason;
  }
  return instances;
}

async function startPortalProcess(env: Record<string, string>, nodeArgs: string[]): Promise<PortalInstance> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/server/main.ts'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let errors = '';
  child.stderr!.on('data', (chunk: Buffer) => (errors = (errors + chunk.toString()).slice(-4000)));
  const exited = once(child, 'exit');
  let ended = false;
  void exited.then(() => (ended = true));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (ended) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  for (const deadline = Date.now() + 90_000; ; await new Promise((resolve) => setTimeout(resolve, 250))) {
    if (ended) throw new Error(`a portal instance ended during start-up: ${errors}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`a portal instance was not ready in 90 s: ${errors}`);
    }
    if (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) return { url, pid: child.pid!, stop };
  }
}

/**
 * The environment all instances share: the storage, the shared sandbox cloud, one key and one PUBLIC_URL (the
 * load balancer's address, at `setupPort`: a portal started there in the bench process seeds the database).
 */
export async function sharedInstanceEnv(storageEnv: Record<string, string>, sandboxUrl: string): Promise<{ env: Record<string, string>; setupPort: number }> {
  const setupPort = await freePort();
  const env = { ...storageEnv, TENANTGATE_SANDBOX_URL: sandboxUrl, TENANTGATE_ENCRYPTION_KEYS: newKey('bench'), PUBLIC_URL: `http://127.0.0.1:${setupPort}` };
  return { env, setupPort };
}
