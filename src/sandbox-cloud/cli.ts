import { startSandboxCloud } from './index';

/** Standalone start: `tsx src/sandbox-cloud/cli.ts` (honours TENANTGATE_SANDBOX_PORT and TENANTGATE_SANDBOX_FIXTURE). */
const sandbox = await startSandboxCloud({ logger: process.env.SANDBOX_LOG === '1' });
console.log(`Sandbox Microsoft cloud listening at ${sandbox.baseUrl}`);
for (const [name, urls] of Object.entries(sandbox.clouds)) console.log(`  ${name}: login ${urls.login}  graph ${urls.graph}`);

const stop = () => void sandbox.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
