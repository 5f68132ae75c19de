/**
 * Test helper process: opens the database named by the environment (DATABASE_URL or TENANTGATE_DATA_DIR)
 * and migrates it at the moment MIGRATE_AT (epoch ms), so several processes race for it at once.
 */
import { openDatabase } from '../../src/server/db/database';
import { migrateToLatest } from '../../src/server/db/migrate';

const database = openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: process.env.TENANTGATE_DATA_DIR! });
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(process.env.MIGRATE_AT) - Date.now())));
try {
  await migrateToLatest(database.db);
  console.log('migrated');
} catch (error) {
  console.log(`failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await database.close();
}
