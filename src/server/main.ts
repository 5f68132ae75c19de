import { ConfigError, loadConfig } from './config';
import { sandboxBanner, startPortal } from './start';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const portal = await startPortal(config);
  const storage = config.databaseUrl ? 'PostgreSQL' : `SQLite in ${config.dataDir}`;
  if (config.sandboxMode) {
    const sandboxUrl = portal.sandbox?.baseUrl ?? config.sandbox.url ?? '';
    console.log(sandboxBanner(config, sandboxUrl));
    portal.app.log.info(
      `Sandbox mode: the sandbox Microsoft cloud answers at ${sandboxUrl} (sign in with the sample accounts in the README). Portal: ${portal.url} (${storage})`,
    );
  } else {
    portal.app.log.info(`Tenantgate is serving ${portal.url} against Microsoft (${storage})`);
  }
  const shutdown = async (signal: string) => {
    portal.app.log.info(`${signal}: shutting down`);
    await portal.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error: Error) => {
  console.error(`Tenantgate could not start: ${error.message}`);
  process.exit(1);
});
