import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port';

export { freePort };

/**
 * The portal as a real process (`node --import tsx src/server/main.ts`), for tests that stop it the way an
 * operator or a crash does (SIGTERM, SIGKILL) and start it again over the same data folder.
 */
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface PortalProcess {
  url: string;
  sandboxUrl: string;
  child: ChildProcess;
  output(): string;
  stop(signal: NodeJS.Signals): Promise<void>;
}

/** Environment of a sandbox-mode portal with its data in `dataDir`, on the given ports. */
export function portalEnv(dataDir: string, port: number, sandboxPort: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://localhost:${port}`,
    TENANTGATE_DATA_DIR: dataDir,
    TENANTGATE_SANDBOX_PORT: String(sandboxPort),
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

/** Runs a script of the repository with exactly `env`; answers once `ready` says so or the process ends. */
export function runScript(script: string, env: Record<string, string>, args: string[] = []): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, output: () => output, exited };
}

export async function startPortalProcess(env: Record<string, string>): Promise<PortalProcess> {
  const { child, output, exited } = runScript('src/server/main.ts', env);
  const url = env.PUBLIC_URL;
  const sandboxUrl = `http://127.0.0.1:${env.TENANTGATE_SANDBOX_PORT}`;
  let ended = false;
  void exited.then(() => (ended = true));
  const deadline = Date.now() + 45_000;
  for (;;) {
    if (ended) throw new Error(`The portal process ended during start-up:\n${output()}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`The portal process did not answer in time:\n${output()}`);
    }
    const ready = await fetch(`${url}/api/sandbox`).then((r) => r.ok, () => false);
    if (ready) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url,
    sandboxUrl,
    child,
    output,
    async stop(signal) {
      if (ended) return;
      child.kill(signal);
      await exited;
    },
  };
}
