import type { AddressInfo } from 'node:net';
import { preserializeUsers } from './graph/serialize';
import { CLOUD_NAMES, type CloudUrls, type SandboxCloudName } from './clouds';
import { buildTenants, loadFixtureFile, parseFixture, SAMPLE_FIXTURE_PATH, type SandboxFixture } from './fixture';
import { buildSandboxServer } from './server';
import { SandboxState } from './state';

export type { SandboxCloudName } from './clouds';
export type { SandboxFixture } from './fixture';
export { FixtureError, loadFixtureFile, parseFixture, SAMPLE_FIXTURE_PATH } from './fixture';

export interface SandboxCloud {
  /** e.g. http://127.0.0.1:3100 — the control endpoints live under {baseUrl}/_sandbox. */
  baseUrl: string;
  clouds: Record<SandboxCloudName, CloudUrls>;
  /** Registers a multi-tenant app in both clouds (same as POST /_sandbox/apps). */
  registerApp(input: { displayName: string; redirectUris: string[]; postLogoutRedirectUris?: string[] }): { clientId: string; clientSecret: string };
  close(): Promise<void>;
}

export interface StartSandboxCloudOptions {
  /** Default: TENANTGATE_SANDBOX_PORT or 3100; 0 picks a free port. */
  port?: number;
  host?: string;
  /** Parsed fixture JSON; wins over fixturePath. */
  fixture?: unknown;
  /** Default: TENANTGATE_SANDBOX_FIXTURE, else the built-in sample. */
  fixturePath?: string;
  logger?: boolean;
}

function chooseFixture(options: StartSandboxCloudOptions): SandboxFixture {
  if (options.fixture !== undefined) return parseFixture(options.fixture);
  return loadFixtureFile(options.fixturePath ?? process.env.TENANTGATE_SANDBOX_FIXTURE ?? SAMPLE_FIXTURE_PATH);
}

export async function startSandboxCloud(options: StartSandboxCloudOptions = {}): Promise<SandboxCloud> {
  const state = new SandboxState();
  state.directory.replaceAll(buildTenants(chooseFixture(options)));
  preserializeUsers(state.directory.all());
  const app = buildSandboxServer(state, { logger: options.logger });
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? Number(process.env.TENANTGATE_SANDBOX_PORT ?? 3100);
  await app.listen({ port, host });
  const address = app.server.address() as AddressInfo;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  state.baseUrl = `http://${urlHost}:${address.port}`;
  return {
    baseUrl: state.baseUrl,
    clouds: Object.fromEntries(CLOUD_NAMES.map((c) => [c, state.urls(c)])) as Record<SandboxCloudName, CloudUrls>,
    registerApp: (input) => state.apps.register(input),
    close: () => app.close(),
  };
}
