import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { answerOf, hammer, startServer, type Load } from './read-paths/load';
import type { BenchRow } from './types';

/**
 * Signed-in reads at 64 connections (autocannon, 1,000 local users in one partner) against a bare Fastify
 * route answering the very same JSON from memory, measured alternately in the same run. SQLite always;
 * PostgreSQL when TEST_DATABASE_URL (or BENCH_DATABASE_URL) names a server to create a database on.
 */
const LISTS = ['/api/users?limit=20', '/api/users?limit=200', '/api/app-profiles', '/api/audit?limit=50'];
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const TARGETS = {
  sqlite: { ratio: 0.5, p99Ms: 100 },
  postgres: { ratio: 0.25, p99Ms: 150 },
} as const;

export default async function readPathsBench(): Promise<BenchRow[]> {
  if (process.env.BENCH_DATABASE_URL) process.env.TEST_DATABASE_URL ??= process.env.BENCH_DATABASE_URL;
  const engines = process.env.TEST_DATABASE_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);
  const rows: BenchRow[] = [];
  for (const engine of engines) rows.push(...(await benchEngine(engine)));
  return rows;
}

async function benchEngine(engine: 'sqlite' | 'postgres'): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'tenantgate-bench-'));
  const portal = await startServer(['portal', engine]);
  let bare: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    const answers: Record<string, string> = {};
    for (const list of LISTS) answers[list] = await answerOf(portal.url, list, portal.cookie);
    const answersFile = path.join(dir, 'answers.json');
    writeFileSync(answersFile, JSON.stringify(answers));
    bare = await startServer(['bare', answersFile]);

    // Warm both (JIT, statement caches), then alternate bare and portal per path.
    for (const list of LISTS) {
      await hammer(portal.url, list, { cookie: portal.cookie, seconds: 1 });
      await hammer(bare.url, list, { seconds: 1 });
    }
    const target = TARGETS[engine];
    for (const list of LISTS) {
      const base = await hammer(bare.url, list, { seconds: SECONDS });
      const ours = checked(await hammer(portal.url, list, { cookie: portal.cookie, seconds: SECONDS }), list);
      const ratio = ours.requestsPerSecond / base.requestsPerSecond;
      const size = `${(answers[list].length / 1024).toFixed(0)} KB`;
      rows.push(
        { name: `${engine} GET ${list} (${size}) req/s vs bare ${Math.round(base.requestsPerSecond)}`, value: ours.requestsPerSecond, unit: 'req/s', target: 'reported', ok: true },
        { name: `${engine} GET ${list} / bare route, same JSON`, value: ratio, unit: 'ratio', target: `≥ ${target.ratio}`, ok: ratio >= target.ratio },
        { name: `${engine} GET ${list} p99`, value: ours.p99Ms, unit: 'ms', target: `≤ ${target.p99Ms}`, ok: ours.p99Ms <= target.p99Ms },
      );
    }

    if (engine === 'sqlite') {
      // An authenticated no-op against the cheapest route of the same portal.
      await hammer(portal.url, '/api/session', { cookie: portal.cookie, seconds: 1 });
      const health = await hammer(portal.url, '/healthz', { seconds: SECONDS });
      const session = checked(await hammer(portal.url, '/api/session', { cookie: portal.cookie, seconds: SECONDS }), '/api/session');
      const ratio = session.requestsPerSecond / health.requestsPerSecond;
      rows.push(
        { name: `sqlite GET /api/session (signed in) req/s vs /healthz ${Math.round(health.requestsPerSecond)}`, value: session.requestsPerSecond, unit: 'req/s', target: 'reported', ok: true },
        { name: 'sqlite GET /api/session / GET /healthz', value: ratio, unit: 'ratio', target: '≥ 0.5', ok: ratio >= 0.5 },
      );
    }
  } finally {
    await bare?.stop();
    await portal.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

function checked(load: Load, what: string): Load {
  if (load.non2xx > 0 || load.errors > 0) throw new Error(`${what}: ${load.non2xx} non-2xx answers, ${load.errors} errors under load`);
  return load;
}
