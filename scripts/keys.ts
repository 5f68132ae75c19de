/**
 * `npm run keys -- status`: how many stored secrets each encryption key sealed.
 * `npm run keys -- rotate [--batch-size N]`: re-seals every stored secret under the first key of
 * TENANTGATE_ENCRYPTION_KEYS (or the sandbox key file), in batches; safe while portals run.
 * Reads the same settings as the portal (DATABASE_URL or TENANTGATE_DATA_DIR).
 */
import { ConfigError, loadConfig } from '../src/server/config';
import { openDatabase } from '../src/server/db/database';
import { migrationsApplied } from '../src/server/db/migrate';
import { rotateStoredSecrets, sealedSecretCounts } from '../src/server/security/key-rotation';
import { resolveKeyList } from '../src/server/security/key-file';
import { createSecretBox, parseKeyList, SecretBoxError } from '../src/server/security/secret-box';

async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command !== 'status' && command !== 'rotate') {
    console.error('usage: npm run keys -- status | rotate [--batch-size N]');
    return 2;
  }
  const config = loadConfig();
  const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    if (!(await migrationsApplied(database.db))) {
      console.error('The database is not migrated to this version: start the portal once (it migrates), then run this again.');
      return 1;
    }
    const keys = parseKeyList(resolveKeyList(config));
    const box = createSecretBox(keys);
    if (command === 'rotate') {
      const sizeIndex = rest.indexOf('--batch-size');
      const batchSize = sizeIndex >= 0 ? Number(rest[sizeIndex + 1]) : 500;
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error('--batch-size must be a positive whole number');
      const totals = await rotateStoredSecrets(database.db, box, { batchSize, onBatch: (t) => console.log(`  re-sealed ${t.resealed} so far`) });
      console.log(`Re-sealed ${totals.resealed} secret(s) under key ${box.currentKeyId}; ${totals.skippedChanged} changed meanwhile by a running portal (already current); ${totals.unreadable} could not be opened with the configured keys.`);
    }
    const uses = await sealedSecretCounts(database.db, database.engine);
    console.log(`Current key: ${box.currentKeyId}. Configured keys: ${[...keys.keys()].join(', ')}.`);
    if (uses.length === 0) console.log('No stored secrets.');
    for (const use of uses) console.log(`  ${use.secret.padEnd(32)} key ${use.keyId.padEnd(12)} ${use.count}${keys.has(use.keyId) ? '' : '  (key NOT configured)'}`);
    const old = uses.filter((u) => u.keyId !== box.currentKeyId).reduce((n, u) => n + u.count, 0);
    console.log(old === 0 ? 'Every stored secret is sealed with the current key: older keys can be removed.' : `${old} secret(s) still need an older key: run "npm run keys -- rotate".`);
    return command === 'rotate' && old > 0 ? 1 : 0;
  } finally {
    await database.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error instanceof ConfigError || error instanceof SecretBoxError ? error.message : `keys failed: ${error.message}`);
    process.exit(1);
  },
);
