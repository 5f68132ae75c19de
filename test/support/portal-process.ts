import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
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

/** Runs a script of the repository with exactly `env` (and Node's own `nodeArgs`); answers once `ready` says so or the process ends. */
export function runScript(script: string, env: Record<string, string>, args: string[] = [], nodeArgs: string[] = []): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, output: () => output, exited };
}

/**
 * How long a start-up may take. Idle, a start takes about 6 s, nearly all of it loading TypeScript through tsx, and
 * 14 s beside six busy loops on two cores; in one CI run it took over 45 s for a reason not found. The limit is
 * generous, and a start that never answers still fails, saying what the process was doing (processState).
 */
export const PROCESS_START_LIMIT_MS = 150_000;

/** For a hook or test that starts the portal `starts` times and does `otherMs` of its own work. */
export const withProcessStarts = (starts: number, otherMs: number): number => starts * PROCESS_START_LIMIT_MS + otherMs;

/**
 * What a stuck start-up was doing: starved of CPU (little CPU time, high load) or blocked (its state, and where its
 * JavaScript was: Node's diagnostic report, asked for with SIGUSR2 and read from `reportDir`).
 */
async function processState(child: ChildProcess, reportDir: string): Promise<string> {
  const facts = [`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`];
  try {
    // /proc/<pid>/stat: the fields after the command's closing parenthesis; state is the first, utime and stime the 12th and 13th.
    const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const ticks = 100; // USER_HZ on Linux
    facts.unshift(`state ${fields[0]}, CPU ${((Number(fields[11]) + Number(fields[12])) / ticks).toFixed(1)} s`);
    child.kill('SIGUSR2');
    for (const until = Date.now() + 5_000; Date.now() < until; await new Promise((resolve) => setTimeout(resolve, 100))) {
      const stack = readReportStack(reportDir);
      if (stack === undefined) continue;
      facts.push(`JavaScript stack:\n  ${stack}`);
      break;
    }
  } catch (error) {
    facts.push(`no report: ${(error as Error).message}`);
  }
  return facts.join(', ');
}

/** The main thread's JavaScript stack from the report in `reportDir`, once it is there and whole. */
function readReportStack(reportDir: string): string | undefined {
  const [file] = readdirSync(reportDir);
  if (!file) return undefined;
  try {
    const report = JSON.parse(readFileSync(path.join(reportDir, file), 'utf8')) as { javascriptStack?: { message?: string; stack?: string[] } };
    return [report.javascriptStack?.message ?? '', ...(report.javascriptStack?.stack ?? []).slice(0, 20)].join('\n  ');
  } catch {
    return undefined; // still being written
  }
}

export async function startPortalProcess(env: Record<string, string>, startLimitMs = PROCESS_START_LIMIT_MS): Promise<PortalProcess> {
  const reportDir = mkdtempSync(path.join(tmpdir(), 'tenantgate-start-report-'));
  const diagnostics = ['--report-on-signal', '--report-signal=SIGUSR2', `--report-directory=${reportDir}`, '--report-compact'];
  const { child, output, exited } = runScript('src/server/main.ts', env, [], diagnostics);
  const url = env.PUBLIC_URL;
  const sandboxUrl = `http://127.0.0.1:${env.TENANTGATE_SANDBOX_PORT}`;
  let ended = false;
  void exited.then(() => (ended = true));
  const startedAt = Date.now();
  for (;;) {
    if (ended) throw new Error(`The portal process ended during start-up:\n${output()}`);
    if (Date.now() - startedAt > startLimitMs) {
      const state = await processState(child, reportDir);
      child.kill('SIGKILL');
      rmSync(reportDir, { recursive: true, force: true });
      throw new Error(`The portal process did not answer within ${startLimitMs / 1000} s (${state}):\n${output()}`);
    }
    const ready = await fetch(`${url}/api/sandbox`, { signal: AbortSignal.timeout(10_000) }).then((r) => r.ok, () => false);
    if (ready) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  rmSync(reportDir, { recursive: true, force: true });
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
