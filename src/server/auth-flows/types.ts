import type { AuthContext } from '../http/context';
import type { RedeemedFlow } from './store';

/** What Microsoft sent back to the redirect URI. */
export interface CallbackParams {
  code?: string;
  error?: string;
  errorDescription?: string;
}

/** Where the browser goes next, and the portal session the round trip opened (single sign-on). */
export interface FlowResult {
  location: string;
  sessionToken?: string;
  /** Unexpected failures the finisher answered for (a partner refused) without failing the round trip: the route logs them. */
  incidents?: unknown[];
}

/** Each feature finishes its own kind of round trip. */
export type FlowFinisher = (flow: RedeemedFlow, params: CallbackParams, auth: AuthContext | null, clientAddress: string) => Promise<FlowResult>;
