import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import { CLOUD_NAMES, type CloudUrls, type SandboxCloudName } from './clouds';
import { loadFixtureFile, parseFixture, SAMPLE_FIXTURE_PATH, type SandboxFixture } from './fixture';
import { openSandboxState } from './open-state';
import { buildSandboxServer } from './server';

export type { SandboxCloudName } from './clouds';
export type { SandboxFixture } from './fixture';
export { FixtureError, loadFixtureFile, parseFixture, SAMPLE_FIXTURE_PATH } from './fixture';
export { SandboxStateError, STATE_FILE_NAME } from './persistence';

export interface SandboxCloud {
  /** e.g. http://127.0.0.1:3100 — the control endpoints live under {baseUrl}/_sandbox. */
  baseUrl: string;
  clouds: Record<SandboxCloudName, CloudUrls>;
  /** Registers a multi-tenant app in both clouds (same as POST /_sandbox/apps). */
  registerApp(input: { displayName: string; redirectUris: string[]; postLogoutRedirectUris?: string[] }): { clientId: string; clientSecret: string };
  /** The registration with this name and redirect URIs if the sandbox remembers one, else a new one. */
  registerOrReuseApp(input: { displayName: string; redirectUris: string[]; postLogoutRedirectUris?: string[] }): { clientId: string; clientSecret: string };
  /** True when the state came from the state folder (not seeded from the fixture). */
  restored: boolean;
  close(): Promise<void>;
}

export interface StartSandboxCloudOptions {
  /** Default: TENANTGATE_SANDBOX_PORT or 3100; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. Anything but a loopback address needs `allowRemote`: the sandbox mints tokens for anyone. */
  host?: string;
  allowRemote?: boolean;
  /**
   * Folder that keeps the sandbox's state across restarts (created if missing). Without it the sandbox lives in
   * memory only. When the folder holds a state, it wins over `fixture` / `fixturePath`.
   */
  stateDir?: string;
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

export class SandboxHostError extends Error {}

export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  return isIP(bare) === 4 && bare.startsWith('127.');
}

export async function startSandboxCloud(options: StartSandboxCloudOptions = {}): Promise<SandboxCloud> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host) && !options.allowRemote) {
    throw new SandboxHostError(
      `The sandbox cloud listens on loopback only: it signs tokens for any tenant and user, so "${host}" would let other machines mint them. ` +
        'Allow it explicitly with TENANTGATE_SANDBOX_ALLOW_REMOTE=true (option allowRemote) if that is what you want.',
    );
  }
  const { state, file, restored } = openSandboxState({ stateDir: options.stateDir, fixture: () => chooseFixture(options) });
  const app = buildSandboxServer(state, { logger: options.logger });
  app.addHook('onClose', async () => file?.close());
  const port = options.port ?? Number(process.env.TENANTGATE_SANDBOX_PORT ?? 3100);
  try {
    await app.listen({ port, host });
  } catch (error) {
    await app.close();
    throw error;
  }
  const address = app.server.address() as AddressInfo;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  state.baseUrl = `http://${urlHost}:${address.port}`;
  return {
    baseUrl: state.baseUrl,
    clouds: Object.fromEntries(CLOUD_NAMES.map((c) => [c, state.urls(c)])) as Record<SandboxCloudName, CloudUrls>,
    registerApp: (input) => state.apps.register(input),
    registerOrReuseApp: (input) => {
      const { clientId, clientSecret } = state.apps.registerOrReuse(input);
      return { clientId, clientSecret };
    },
    restored,
    close: () => app.close(),
  };
}
