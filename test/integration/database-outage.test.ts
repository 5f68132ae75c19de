import { Worker } from 'node:worker_threads';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpPartner, type ApiClient } from '../support/api-client';
import { startTestPortal, type TestPortal } from '../support/portal';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Keeps `workers` clients listing users until `stop` resolves; answers every status with its error code. */
async function hammer(client: ApiClient, workers: number, until: () => boolean): Promise<{ status: number; code?: string }[]> {
  const answers: { status: number; code?: string }[] = [];
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (!until()) {
        const res = await client.get('/api/users?limit=5');
        answers.push({ status: res.status, code: res.body?.error?.code });
      }
    }),
  );
  return answers;
}

describe.runIf(process.env.TEST_DATABASE_URL)('PostgreSQL connections killed while the portal serves requests', () => {
  let portal: TestPortal;
  let admin: pg.Client;
  let database: string;
  let client: ApiClient;
  beforeAll(async () => {
    portal = await startTestPortal('postgres');
    database = new URL(portal.config.databaseUrl!).pathname.slice(1);
    admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    client = (await signUpPartner(portal.url)).client;
  });
  afterAll(async () => {
    await admin?.query(`ALTER DATABASE ${database} ALLOW_CONNECTIONS true`).catch(() => undefined);
    await admin?.end();
    await portal?.close();
  });

  /** Only this test's database: other helpers share the server. */
  const killConnections = () => admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database]);

  it('answers 200 or 503 DATABASE_UNAVAILABLE while its connections are killed again and again, and 200 after', async () => {
    let killing = true;
    const killer = (async () => {
      const started = Date.now();
      while (Date.now() - started < 2_000) {
        await killConnections();
        await sleep(15);
      }
      killing = false;
    })();
    const during = await hammer(client, 6, () => !killing);
    await killer;
    const statuses = new Set(during.map((a) => `${a.status} ${a.code ?? ''}`.trim()));
    expect([...statuses].filter((s) => s !== '200' && s !== '503 DATABASE_UNAVAILABLE')).toEqual([]);
    expect(during.length).toBeGreaterThan(20);
    console.log(`connections killed for 2 s: ${during.length} answers, ${during.filter((a) => a.status === 503).length} of them 503 DATABASE_UNAVAILABLE`);
    // Recovered without a restart: the pool replaces the dead connections by itself.
    for (let i = 0; i < 20; i++) expect((await client.get('/api/users?limit=5')).status).toBe(200);
  });

  it('answers 503 DATABASE_UNAVAILABLE (never 500) while the database refuses every connection, and recovers', async () => {
    await admin.query(`ALTER DATABASE ${database} ALLOW_CONNECTIONS false`);
    await killConnections();
    const during: { status: number; code?: string; retryAfter: string | null }[] = [];
    for (const path of ['/api/users', '/api/app-profiles', '/api/session', '/api/audit']) {
      const res = await client.get(path);
      during.push({ status: res.status, code: res.body?.error?.code, retryAfter: res.headers.get('retry-after') });
    }
    const signIn = await client.post('/api/session', { email: 'nobody@acme-partner.test', password: 'whatever-it-is-1' });
    during.push({ status: signIn.status, code: signIn.body?.error?.code, retryAfter: signIn.headers.get('retry-after') });
    expect(await (await fetch(`${portal.url}/readyz`)).json()).toMatchObject({ status: 'not_ready' });
    await admin.query(`ALTER DATABASE ${database} ALLOW_CONNECTIONS true`);
    expect(during).toEqual(during.map(() => ({ status: 503, code: 'DATABASE_UNAVAILABLE', retryAfter: '5' })));
    expect((await client.get('/api/users')).status).toBe(200);
    expect((await fetch(`${portal.url}/readyz`)).status).toBe(200);
  });
});

describe('SQLite under concurrent writers', () => {
  let portal: TestPortal;
  beforeAll(async () => {
    portal = await startTestPortal('sqlite');
  });
  afterAll(async () => {
    await portal?.close();
  });

  it('never answers SQLITE_BUSY: parallel API writes wait while a second connection holds the write lock', async () => {
    const { client } = await signUpPartner(portal.url);
    const file = path.join(portal.config.dataDir, 'tenantgate.sqlite');
    // A second connection, in its own thread (the portal's waits block its event loop), takes the write
    // lock three times for 300 ms while the API writes.
    const locker = new Worker(
      `const Database = require('better-sqlite3');
       const { parentPort, workerData } = require('node:worker_threads');
       const db = new Database(workerData.file);
       db.pragma('busy_timeout = 5000');
       const pause = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
       let held = 0;
       for (let i = 0; i < 3; i++) {
         db.exec('BEGIN IMMEDIATE');
         db.prepare("UPDATE job_leases SET holder = holder WHERE 0").run();
         pause(300);
         db.exec('COMMIT');
         held++;
         pause(100);
       }
       db.close();
       parentPort.postMessage(held);`,
      { eval: true, workerData: { file } },
    );
    const lockedThreeTimes = new Promise<number>((resolve, reject) => {
      locker.once('message', resolve);
      locker.once('error', reject);
    });
    const writes = Array.from({ length: 40 }, (_, i) => client.post('/api/users', { signInType: 'local', emails: [`writer-${i}@acme-partner.test`], role: 'member' }));
    const answers = await Promise.all(writes);
    expect(await lockedThreeTimes).toBe(3);
    expect(answers.map((a) => a.status).filter((s) => s !== 200)).toEqual([]);
    const listed = (await client.get('/api/users?limit=100')).body.items as { email: string }[];
    expect(listed.filter((u) => u.email.startsWith('writer-'))).toHaveLength(40);
  });
});
