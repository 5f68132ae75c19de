import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Sandbox mode only: with no TENANTGATE_ENCRYPTION_KEYS, a key is generated once into the data folder
 * (mode 0600) so a newcomer can run the portal without setting secrets.
 */
export function loadOrCreateSandboxKeyFile(dataDir: string): { keys: string; created: boolean; file: string } {
  const file = path.join(dataDir, 'encryption-key');
  if (existsSync(file)) return { keys: readFileSync(file, 'utf8').trim(), created: false, file };
  mkdirSync(dataDir, { recursive: true });
  const keys = `sandbox:${randomBytes(32).toString('base64')}`;
  writeFileSync(file, `${keys}\n`, { mode: 0o600 });
  return { keys, created: true, file };
}
