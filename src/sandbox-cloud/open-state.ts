import { CLOUD_NAMES, type SandboxCloudName } from './clouds';
import { buildTenants, type SandboxFixture } from './fixture';
import { preserializeUsersInBackground } from './graph/serialize';
import { createSigningKey, exportSigningKey, importSigningKey, type CloudSigningKey } from './keys';
import { SandboxStateError, SqliteStateFile, type SavedState } from './persistence';
import { SandboxState } from './state';
import { applyTenantChange } from './tenant-changes';

/**
 * The sandbox's state at start-up. Without a state folder: fresh, in memory. With one: what it saved, if it saved
 * anything (the fixture is then ignored: the existing state wins); else fresh from the fixture, and saved.
 */
export function openSandboxState(options: { stateDir?: string; fixture: () => SandboxFixture }): { state: SandboxState; file?: SqliteStateFile; restored: boolean } {
  if (!options.stateDir) {
    const state = new SandboxState();
    state.installFixture(options.fixture());
    return { state, restored: false };
  }
  const file = SqliteStateFile.open(options.stateDir);
  try {
    const saved = file.read();
    if (saved) return { state: restore(file, saved), file, restored: true };
    const state = new SandboxState(file);
    file.setMeta('keys', Object.fromEntries(CLOUD_NAMES.map((c) => [c, exportSigningKey(state.keys[c])])));
    state.installFixture(options.fixture());
    return { state, file, restored: false };
  } catch (error) {
    file.close();
    throw error;
  }
}

function restore(file: SqliteStateFile, saved: SavedState): SandboxState {
  try {
    // A state saved before a cloud was emulated has no key for it: that cloud gets a new one, saved at once.
    const missing = CLOUD_NAMES.filter((c) => saved.keys[c] === undefined);
    const keys = Object.fromEntries(CLOUD_NAMES.map((c) => [c, saved.keys[c] === undefined ? createSigningKey() : importSigningKey(saved.keys[c])])) as Record<SandboxCloudName, CloudSigningKey>;
    if (missing.length > 0) file.setMeta('keys', Object.fromEntries(CLOUD_NAMES.map((c) => [c, exportSigningKey(keys[c])])));
    const state = new SandboxState(file, keys);
    const tenants = buildTenants(saved.fixture);
    for (const tenant of tenants) tenant.epoch = saved.epochs[tenant.id] ?? tenant.epoch;
    state.directory.replaceAll(tenants);
    for (const change of saved.changes) applyTenantChange(state.directory, change);
    preserializeUsersInBackground(tenants);
    state.clock.restore(saved.clockOffsetMs);
    state.apps.restore(saved.apps);
    state.grants.restore(saved.codes, saved.refreshTokens);
    state.sessions.restore(saved.sessions);
    state.consents.restore(saved.consents);
    if (saved.traffic) state.traffic.restore(saved.traffic);
    state.idTokenTampering.restore(saved.idTokenTamper);
    return state;
  } catch (error) {
    throw new SandboxStateError(`The sandbox state file ${file.file} cannot be used (${(error as Error).message}). Restore it, or move it away to start with a fresh sandbox.`);
  }
}
