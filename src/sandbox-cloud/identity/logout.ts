import { decodeJwt } from 'jose';
import type { SandboxState } from '../state';
import { appendQuery } from '../http';

/**
 * Where logout sends the browser: a post_logout_redirect_uri registered for the app (named by client_id or
 * id_token_hint's aud, or any app when neither is given), exactly matched; otherwise null ("You signed out" page).
 */
export function postLogoutTarget(state: SandboxState, params: Record<string, string>): string | null {
  const uri = params.post_logout_redirect_uri;
  if (!uri) return null;
  let clientId: string | undefined = params.client_id;
  if (!clientId && params.id_token_hint) {
    try {
      const aud = decodeJwt(params.id_token_hint).aud;
      clientId = Array.isArray(aud) ? aud[0] : aud;
    } catch {
      clientId = undefined;
    }
  }
  const candidates = clientId ? [state.apps.get(clientId)].filter((a) => a !== undefined) : state.apps.all();
  if (!candidates.some((app) => app.postLogoutRedirectUris.includes(uri))) return null;
  return appendQuery(uri, { state: params.state });
}
