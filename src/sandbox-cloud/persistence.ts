import { chmodSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { AppRegistration } from './apps';
import { consentRowKey, consentRowsOfSnapshot, type ConsentRow, type ConsentSnapshot } from './consent';
import type { SandboxFixture } from './fixture';
import type { PendingTraffic } from './graph/traffic';
import type { AuthorizationCode, RefreshGrant } from './identity/grants';
import type { StoredSession } from './identity/sessions';
import type { IdTokenTamper } from './identity/tamper';
import type { StateSink, StateTable } from './state-sink';
import type { TenantChange } from './tenant-changes';

/**
 * The sandbox's state folder: one SQLite file (`state.sqlite`). SQLite gives atomic, incremental writes (a
 * refresh token is one row, not a rewrite of everything), and a SIGKILL at any instant leaves a readable file.
 * Generated tenants are not written out: the fixture (with its seeds) is, plus the changes made since.
 */

/** 2: consents are one row each (table `consents`), no longer one snapshot in `meta`. */
const SCHEMA_VERSION = 2;
export const STATE_FILE_NAME = 'state.sqlite';

export class SandboxStateError extends Error {}

/**
 * Where the sandbox keeps its state (TENANTGATE_SANDBOX_STATE): the named folder, else the data folder's `sandbox/`;
 * `memory` keeps nothing across restarts.
 */
export function sandboxStateDir(setting: string | undefined, dataDir: string): string | undefined {
  if (setting === 'memory') return undefined;
  return setting ?? path.join(dataDir, 'sandbox');
}

/** Everything a state file holds, read back at start-up. */
export interface SavedState {
  fixture: SandboxFixture;
  epochs: Record<string, string>;
  keys: Record<string, string>;
  clockOffsetMs: number;
  consents: ConsentRow[];
  traffic?: PendingTraffic;
  idTokenTamper?: { tamper: IdTokenTamper; remaining: number; tenantId: string | null } | null;
  apps: AppRegistration[];
  codes: [string, AuthorizationCode][];
  refreshTokens: [string, RefreshGrant][];
  sessions: StoredSession[];
  changes: TenantChange[];
}

const TABLES: readonly StateTable[] = ['apps', 'codes', 'consents', 'refresh_tokens', 'sessions'];

export class SqliteStateFile implements StateSink {
  private readonly db: Database.Database;
  private readonly statements: { put: Map<StateTable, Database.Statement>; remove: Map<StateTable, Database.Statement>; meta: Database.Statement; change: Database.Statement };

  private constructor(
    readonly file: string,
    db: Database.Database,
  ) {
    this.db = db;
    this.statements = {
      put: new Map(TABLES.map((t) => [t, db.prepare(`INSERT OR REPLACE INTO ${t} (key, value) VALUES (?, ?)`)])),
      remove: new Map(TABLES.map((t) => [t, db.prepare(`DELETE FROM ${t} WHERE key = ?`)])),
      meta: db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
      change: db.prepare('INSERT INTO changes (value) VALUES (?)'),
    };
  }

  /** Opens (or creates) the state file in `folder`; a file that cannot be read stops here, naming it. */
  static open(folder: string): SqliteStateFile {
    const file = path.resolve(folder, STATE_FILE_NAME);
    try {
      // Private keys and client secrets live here: readable by the owner only, like the portal's key file.
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      const db = new Database(file);
      chmodSync(file, 0o600);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new Error(`integrity check: ${String(check)}`);
      db.exec(`
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, value TEXT NOT NULL);
        ${TABLES.map((t) => `CREATE TABLE IF NOT EXISTS ${t} (key TEXT PRIMARY KEY, value TEXT NOT NULL);`).join('\n')}
      `);
      const version = db.prepare("SELECT value FROM meta WHERE key = 'schemaVersion'").pluck().get() as string | undefined;
      if (version !== undefined && Number(version) > SCHEMA_VERSION) throw new Error(`it was written by a newer Tenantgate (state schema ${version}, this one reads up to ${SCHEMA_VERSION})`);
      if (version === undefined || Number(version) < SCHEMA_VERSION) upgrade(db);
      return new SqliteStateFile(file, db);
    } catch (error) {
      throw stateError(file, error);
    }
  }

  /** The saved state, or null when the file is new (nothing seeded yet). */
  read(): SavedState | null {
    try {
      const meta = new Map((this.db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
      const fixture = meta.get('fixture');
      if (fixture === undefined) return null;
      const json = <T>(key: string): T | undefined => (meta.has(key) ? (JSON.parse(meta.get(key)!) as T) : undefined);
      const rows = <T>(table: StateTable): [string, T][] =>
        (this.db.prepare(`SELECT key, value FROM ${table}`).all() as { key: string; value: string }[]).map((r) => [r.key, JSON.parse(r.value) as T]);
      return {
        fixture: JSON.parse(fixture) as SandboxFixture,
        epochs: json<Record<string, string>>('epochs') ?? {},
        keys: json<Record<string, string>>('keys') ?? {},
        clockOffsetMs: json<number>('clockOffsetMs') ?? 0,
        consents: rows<ConsentRow>('consents').map(([, row]) => row),
        traffic: json<PendingTraffic>('traffic'),
        idTokenTamper: json<SavedState['idTokenTamper']>('idTokenTamper'),
        apps: rows<AppRegistration>('apps').map(([, app]) => app),
        codes: rows<AuthorizationCode>('codes'),
        refreshTokens: rows<RefreshGrant>('refresh_tokens'),
        sessions: rows<StoredSession>('sessions').map(([, s]) => s),
        changes: (this.db.prepare('SELECT value FROM changes ORDER BY seq').pluck().all() as string[]).map((v) => JSON.parse(v) as TenantChange),
      };
    } catch (error) {
      throw stateError(this.file, error);
    }
  }

  put(table: StateTable, key: string, value: unknown): void {
    this.statements.put.get(table)!.run(key, JSON.stringify(value));
  }

  remove(table: StateTable, key: string): void {
    this.statements.remove.get(table)!.run(key);
  }

  setMeta(key: string, value: unknown): void {
    this.statements.meta.run(key, JSON.stringify(value));
  }

  appendChange(change: TenantChange): void {
    this.statements.change.run(JSON.stringify(change));
  }

  /** A new fixture: every tenant-bound record goes in the same transaction (apps, keys and clock stay). */
  replaceTenants(fixture: SandboxFixture, epochs: Record<string, string>): void {
    this.db.transaction(() => {
      for (const table of ['changes', 'codes', 'consents', 'refresh_tokens', 'sessions']) this.db.exec(`DELETE FROM ${table}`);
      this.db.prepare("DELETE FROM meta WHERE key IN ('traffic', 'idTokenTamper')").run();
      this.setMeta('fixture', fixture);
      this.setMeta('epochs', epochs);
    })();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Brings a new or older state file to SCHEMA_VERSION in one transaction (1 → 2: the consent snapshot becomes rows). */
function upgrade(db: Database.Database): void {
  db.transaction(() => {
    const snapshot = db.prepare("SELECT value FROM meta WHERE key = 'consents'").pluck().get() as string | undefined;
    if (snapshot !== undefined) {
      const insert = db.prepare('INSERT OR REPLACE INTO consents (key, value) VALUES (?, ?)');
      for (const row of consentRowsOfSnapshot(JSON.parse(snapshot) as ConsentSnapshot)) insert.run(consentRowKey(row), JSON.stringify(row));
      db.prepare("DELETE FROM meta WHERE key = 'consents'").run();
    }
    db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('schemaVersion', ?)").run(String(SCHEMA_VERSION));
  })();
}

function stateError(file: string, error: unknown): SandboxStateError {
  if (error instanceof SandboxStateError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new SandboxStateError(
    `The sandbox state file ${file} cannot be read (${reason}). The sandbox does not start empty over it: ` +
      'restore the file, or move it away to start with a fresh sandbox (every app profile will then need re-authorizing).',
  );
}
