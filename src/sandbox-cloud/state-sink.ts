import type { TenantChange } from './tenant-changes';

/**
 * Where the sandbox's stores report what they changed. In memory nothing is written; with a state folder
 * (`persistence.ts`) every change is written before the request that made it is answered, so a SIGKILL loses
 * nothing a client was told about.
 */
export type StateTable = 'apps' | 'codes' | 'consents' | 'refresh_tokens' | 'sessions';

export interface StateSink {
  put(table: StateTable, key: string, value: unknown): void;
  remove(table: StateTable, key: string): void;
  setMeta(key: string, value: unknown): void;
  appendChange(change: TenantChange): void;
}

export const inMemoryOnly: StateSink = {
  put: () => undefined,
  remove: () => undefined,
  setMeta: () => undefined,
  appendChange: () => undefined,
};
