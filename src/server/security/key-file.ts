import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';

/** The sandbox-mode key file's name in the data folder (the backup copies it). */
export const KEY_FILE_NAME = 'encryption-key';

/** TENANTGATE_ENCRYPTION_KEYS, or in sandbox mode the key file in the data folder (created once). */
export function resolveKeyList(config: Pick<Config, 'encryptionKeys' | 'dataDir'>, notify: (notice: string) => void = () => undefined): string {
  if (config.encryptionKeys) return config.encryptionKeys;
  const keyFile = loadOrCreateSandboxKeyFile(config.dataDir);
  if (keyFile.created) notify(`Sandbox mode: generated an encryption key in ${keyFile.file}`);
  return keyFile.keys;
}

/**
 * Sandbox mode only: with no TENANTGATE_ENCRYPTION_KEYS, a key is generated once into the data folder
 * (mode 0600) so a newcomer can run the portal without setting secrets.
 */
function loadOrCreateSandboxKeyFile(dataDir: string): { keys: string; created: boolean; file: string } {
  const file = path.join(dataDir, KEY_FILE_NAME);
  if (existsSync(file)) return { keys: readFileSync(file, 'utf8').trim(), created: false, file };
  mkdirSync(dataDir, { recursive: true });
  const keys = `sandbox:${randomBytes(32).toString('base64')}`;
  // Written aside, then linked into place (atomic, fails if present): of several instances starting at
  // once on one data folder the first key wins, none is overwritten and none is read half written.
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(draft, `${keys}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(draft, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { keys: readFileSync(file, 'utf8').trim(), created: false, file };
  } finally {
    unlinkSync(draft);
  }
  return { keys, created: true, file };
}
