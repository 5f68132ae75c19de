/**
 * `npm run backup -- <folder>`: a consistent copy of everything the portal keeps on disk, taken while it
 * runs, into a new (or empty) folder that `TENANTGATE_DATA_DIR=<folder> npm start` starts on:
 * the SQLite database (SQLite's online backup, so writes during the copy are either in it or not),
 * the sandbox-mode key file, and the sandbox state folder. With PostgreSQL the database is pg_dump's job.
 * Reads the same settings as the portal.
 */
import SQLite from 'better-sqlite3';
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { STATE_FILE_NAME as SANDBOX_STATE_FILE } from '../src/sandbox-cloud/persistence';
import { ConfigError, loadConfig } from '../src/server/config';
import { SQLITE_FILE_NAME as DATABASE_FILE } from '../src/server/db/database';
import { KEY_FILE_NAME as KEY_FILE } from '../src/server/security/key-file';

/** SQLite's online backup API: a transaction-consistent snapshot while other connections write. */
async function backUpSqlite(source: string, target: string): Promise<void> {
  const db = new SQLite(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    await db.backup(target);
  } finally {
    db.close();
  }
}

async function main(args: string[]): Promise<number> {
  const folder = args[0];
  if (!folder) {
    console.error('usage: npm run backup -- <folder>');
    return 2;
  }
  const config = loadConfig();
  const target = path.resolve(folder);
  // A backup never overwrites anything: an earlier backup in that folder stays as it was.
  if (existsSync(target) && readdirSync(target).length > 0) {
    console.error(`${target} is not empty: give a new or empty folder.`);
    return 1;
  }
  mkdirSync(target, { recursive: true, mode: 0o700 });
  const written: string[] = [];

  if (config.databaseUrl) {
    console.log('PostgreSQL: the database is not copied by this command. Back it up with pg_dump, e.g.');
    console.log('  pg_dump --format=custom --file=tenantgate.dump "$DATABASE_URL"');
    console.log('and restore with pg_restore --clean --if-exists --dbname="$DATABASE_URL" tenantgate.dump (docs/deploying.md).');
  } else {
    const source = path.join(config.dataDir, DATABASE_FILE);
    if (!existsSync(source)) throw new Error(`no database at ${source} (TENANTGATE_DATA_DIR)`);
    await backUpSqlite(source, path.join(target, DATABASE_FILE));
    written.push(DATABASE_FILE);
  }

  const keyFile = path.join(config.dataDir, KEY_FILE);
  if (existsSync(keyFile)) {
    copyFileSync(keyFile, path.join(target, KEY_FILE));
    written.push(KEY_FILE);
  } else if (config.encryptionKeys) {
    console.log('TENANTGATE_ENCRYPTION_KEYS is set: keep those keys with the backup (they are not written here).');
  }

  const stateDir = config.sandbox.stateDir;
  if (!config.sandbox.url && stateDir && existsSync(stateDir)) {
    const stateTarget = path.join(target, 'sandbox');
    mkdirSync(stateTarget, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(stateDir)) {
      const from = path.join(stateDir, name);
      // The -wal/-shm files belong to the live database; the online backup already holds their content.
      if (!statSync(from).isFile() || /-(wal|shm|journal)$/.test(name)) continue;
      if (name === SANDBOX_STATE_FILE) await backUpSqlite(from, path.join(stateTarget, name));
      else copyFileSync(from, path.join(stateTarget, name));
      written.push(`sandbox/${name}`);
    }
    if (path.resolve(stateDir) !== path.resolve(config.dataDir, 'sandbox')) {
      console.log(`The sandbox state came from TENANTGATE_SANDBOX_STATE=${stateDir}; the copy is in ${stateTarget} (the default for TENANTGATE_DATA_DIR=${target}).`);
    }
  }

  console.log(`Backed up ${written.join(', ') || 'nothing'} into ${target}`);
  console.log(`Start on it with: TENANTGATE_DATA_DIR=${target} npm start`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error instanceof ConfigError ? error.message : `backup failed: ${error.message}`);
    process.exit(1);
  },
);
