import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { loadFixtureFile, SAMPLE_FIXTURE_PATH, STATE_FILE_NAME } from '../../../src/sandbox-cloud/index';
import { openSandboxState } from '../../../src/sandbox-cloud/open-state';

const CONTOSO = '4f6d1d0e-1c2b-4d9a-9a55-0b7c3e1f2a10';
const NORTHWIND = '7c1e0a55-3d4b-4f8e-9c21-5a6b7c8d9e01';

describe('sandbox consents in the state folder', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const folder = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sandbox-consents-'));
    dirs.push(dir);
    return dir;
  };
  const open = (dir: string) => openSandboxState({ stateDir: dir, fixture: () => loadFixtureFile(SAMPLE_FIXTURE_PATH) });
  const consentRows = (dir: string) => {
    const db = new Database(path.join(dir, STATE_FILE_NAME), { readonly: true });
    try {
      return (db.prepare('SELECT key FROM consents ORDER BY key').pluck().all() as string[]);
    } finally {
      db.close();
    }
  };

  it('keeps grants, consent policies and revocations across a restart, one row per grant', () => {
    const dir = folder();
    const first = open(dir);
    for (let i = 0; i < 100; i++) first.state.consents.grantTenant(CONTOSO, `app-${i}`, ['User.Read', 'Group.Read.All']);
    first.state.consents.setBlockedScopes(NORTHWIND, ['Directory.Read.All']);
    first.state.consents.grantTenant(NORTHWIND, 'app-0', ['User.Read', 'Directory.Read.All']);
    first.state.consents.grantUser(NORTHWIND, 'app-1', 'nora', ['User.Read']);
    expect(first.state.consents.revoke(CONTOSO, 'app-50')).toBe(1);
    first.file!.close();

    // One row per grant and per policy, not one snapshot of all of them.
    expect(consentRows(dir)).toHaveLength(99 + 3);
    expect(consentRows(dir)).toContain(`tenant:${CONTOSO}|app-99`);

    const again = open(dir);
    expect(again.restored).toBe(true);
    const consents = again.state.consents;
    expect([...consents.tenantScopes(CONTOSO, 'app-99')]).toEqual(['User.Read', 'Group.Read.All']);
    expect(consents.hasConsent(CONTOSO, 'app-50', 'anyone')).toBe(false);
    expect([...consents.tenantScopes(NORTHWIND, 'app-0')]).toEqual(['User.Read']);
    expect(consents.hasConsent(NORTHWIND, 'app-1', 'nora')).toBe(true);
    // The consent policy came back too: it still filters new grants.
    consents.grantTenant(NORTHWIND, 'app-2', ['Directory.Read.All']);
    expect(consents.tenantScopes(NORTHWIND, 'app-2').size).toBe(0);
    again.file!.close();
  });

  it('reads the consent snapshot of a schema-1 state file, as rows from then on', () => {
    const dir = folder();
    const made = open(dir);
    made.file!.close();
    // What the previous version wrote: the whole consent store as one meta value, schema 1, no consents table.
    const db = new Database(path.join(dir, STATE_FILE_NAME));
    db.exec('DROP TABLE consents');
    db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('consents', ?)").run(
      JSON.stringify({ tenantGrants: [[`${CONTOSO}|app`, ['User.Read.All']]], userGrants: [[`${NORTHWIND}|app|nora`, ['User.Read']]], blocked: [[NORTHWIND, ['Domain.Read.All']]] }),
    );
    db.prepare("UPDATE meta SET value = '1' WHERE key = 'schemaVersion'").run();
    db.close();

    const upgraded = open(dir);
    expect([...upgraded.state.consents.tenantScopes(CONTOSO, 'app')]).toEqual(['User.Read.All']);
    expect(upgraded.state.consents.hasConsent(NORTHWIND, 'app', 'nora')).toBe(true);
    upgraded.file!.close();
    expect(consentRows(dir)).toEqual([`blocked:${NORTHWIND}`, `tenant:${CONTOSO}|app`, `user:${NORTHWIND}|app|nora`]);
    const check = new Database(path.join(dir, STATE_FILE_NAME), { readonly: true });
    expect(check.prepare("SELECT key, value FROM meta WHERE key IN ('consents', 'schemaVersion')").all()).toEqual([{ key: 'schemaVersion', value: '2' }]);
    check.close();
  });
});
