import type { AppRegistration } from '../apps';
import type { SandboxCloudName } from '../clouds';
import type { RequestedScopes } from '../permissions';

/**
 * Sign-in flows in progress (the authorize state machine's memory). Their types live here, not beside the
 * state machine, so the sandbox state can hold them without importing the machine that reads the state.
 */

export const PROMPTS = ['login', 'none', 'consent', 'select_account'] as const;
export type Prompt = (typeof PROMPTS)[number];

export interface AuthorizeRequest {
  clientId: string;
  redirectUri: string;
  scopes: RequestedScopes;
  state?: string;
  nonce?: string;
  codeChallenge: string;
  prompt?: Prompt;
  loginHint?: string;
  domainHint?: string;
}

export interface AuthorizeFlow {
  id: string;
  cloud: SandboxCloudName;
  /** The tenant named in the URL, or null for `organizations` / `common`. */
  pathTenantId: string | null;
  app: AppRegistration;
  request: AuthorizeRequest;
  createdMs: number;
  /** Set by prompt=login and "Use another account": ask for credentials even with a session. */
  askCredentials: boolean;
  tenantId?: string;
  userId?: string;
  authTimeMs?: number;
  consented?: boolean;
  signInError?: string;
  signInEmail?: string;
}
