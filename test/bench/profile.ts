import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hammer, startServer } from './read-paths/load';

/**
 * `npm run profile -- <path> [--engine postgres] [--seconds 10] [--connections 32] [--keep file.cpuprofile]`: starts the seeded
 * portal of the read-path benchmark, warms it, then records a CPU profile while it hammers one path
 * signed in as the owner (start-up and seeding are not in it), and prints the functions with the most
 * self time (and what they add up to per package or file).
 */
const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args.splice(i, 2)[1] : fallback;
};
const engine = option('engine', 'sqlite');
const seconds = Number(option('seconds', '10'));
const connections = Number(option('connections', '32'));
const keep = option('keep', '');
const target = args[0] ?? '/api/users?limit=50';
if (engine === 'postgres' && process.env.BENCH_DATABASE_URL) process.env.TEST_DATABASE_URL ??= process.env.BENCH_DATABASE_URL;

const dir = mkdtempSync(path.join(tmpdir(), 'tenantgate-profile-'));
try {
  const portal = await startServer(['portal', engine]);
  const file = path.join(dir, 'portal.cpuprofile');
  try {
    await hammer(portal.url, target, { cookie: portal.cookie, connections, seconds: 2 });
    await portal.ask({ profile: 'start' }, 'profiling');
    const load = await hammer(portal.url, target, { cookie: portal.cookie, connections, seconds });
    await portal.ask({ profile: 'stop', file }, 'profiled');
    console.log(`${engine} GET ${target}: ${Math.round(load.requestsPerSecond)} req/s, p99 ${load.p99Ms} ms, ${connections} connections, ${seconds} s\n`);
  } finally {
    await portal.stop();
  }
  if (keep) copyFileSync(file, keep);
  report(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

function report(profile: CpuProfile): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const where = shorten(url);
    byFunction.set(`${functionName || '(anonymous)'}  ${where}${url ? `:${lineNumber + 1}` : ''}`, (byFunction.get(`${functionName || '(anonymous)'}  ${where}${url ? `:${lineNumber + 1}` : ''}`) ?? 0) + us);
    byFile.set(where || functionName, (byFile.get(where || functionName) ?? 0) + us);
  }
  const top = (map: Map<string, number>, n: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${name}`)
      .join('\n');
  console.log(`Top self time by function (of ${(total / 1e6).toFixed(1)} s sampled):\n${top(byFunction, 30)}\n`);
  console.log(`By package or file:\n${top(byFile, 15)}`);
}

/** node_modules/<package> for dependencies, the path inside the repository for our own code. */
function shorten(url: string): string {
  if (!url) return '';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const src = url.indexOf('/src/');
  return src >= 0 ? url.slice(src + 1) : url.replace(/^file:\/\//, '');
}
