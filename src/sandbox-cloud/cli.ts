import path from 'node:path';
import { sandboxStateDir } from './persistence';
import { startSandboxCloud } from './index';

/**
 * Standalone start: `tsx src/sandbox-cloud/cli.ts`. Honours TENANTGATE_SANDBOX_PORT, TENANTGATE_SANDBOX_HOST
 * (+ TENANTGATE_SANDBOX_ALLOW_REMOTE), TENANTGATE_SANDBOX_FIXTURE, and keeps its state in TENANTGATE_SANDBOX_STATE
 * (default: $TENANTGATE_DATA_DIR/sandbox, the same folder the portal's built-in sandbox uses; `memory`: keep nothing).
 */
const env = process.env;
const stateDir = sandboxStateDir(env.TENANTGATE_SANDBOX_STATE || undefined, env.TENANTGATE_DATA_DIR || './data');
try {
  const sandbox = await startSandboxCloud({
    logger: env.SANDBOX_LOG === '1',
    host: env.TENANTGATE_SANDBOX_HOST || undefined,
    allowRemote: env.TENANTGATE_SANDBOX_ALLOW_REMOTE === 'true',
    stateDir,
  });
  const where = stateDir ? `state in ${path.resolve(stateDir)}${sandbox.restored ? ', restored' : ', new'}` : 'state in memory only';
  console.log(`Sandbox Microsoft cloud listening at ${sandbox.baseUrl} (${where})`);
  for (const [name, urls] of Object.entries(sandbox.clouds)) console.log(`  ${name}: login ${urls.login}  graph ${urls.graph}`);
  const stop = () => void sandbox.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} catch (error) {
  console.error(`The sandbox cloud could not start: ${(error as Error).message}`);
  process.exit(1);
}
