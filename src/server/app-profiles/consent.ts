import type { CallbackParams } from '../auth-flows/types';
import { FlowRefusal } from '../auth-flows/outcome';
import type { RedeemedFlow } from '../auth-flows/store';
import { MicrosoftTokenError, parseErrorCodes } from '../microsoft/errors';
import { GraphError } from '../microsoft/graph';
import type { MicrosoftOAuth, RedeemedTokenSet } from '../microsoft/oauth';
import type { Cloud } from '../microsoft/clouds';
import { APP_PROFILE_SCOPES, missingPermissions } from '../microsoft/permissions';
import type { SecretBox } from '../security/secret-box';
import { refreshTokenAad } from './health';
import type { TenantGraphs } from './tenant-graph';

/** What an error on the consent redirect means, as the refusal shown to the administrator. */
export function consentRefusal(params: { error?: string; errorDescription?: string }): FlowRefusal {
  const aadsts = parseErrorCodes(undefined, params.errorDescription)[0];
  // "Need admin approval": the account may not grant these permissions, so it is no Global Administrator.
  if (aadsts === 90094) return new FlowRefusal('NOT_GLOBAL_ADMIN', 'The account needs admin approval to grant the permissions.');
  if (aadsts === 65004 || (params.error === 'access_denied' && aadsts === undefined)) return new FlowRefusal('CONSENT_CANCELLED', 'Consent was cancelled at Microsoft.');
  return new FlowRefusal(aadsts !== undefined ? `AADSTS${aadsts}` : 'MICROSOFT_ERROR', `Microsoft returned ${params.error}.`, { details: { error: params.error } });
}

/** Redeems the code and runs every check that does not depend on the purpose. */
export async function verifyConsentAnswer(
  deps: { oauth: Pick<MicrosoftOAuth, 'redeemCode'>; graphs: Pick<TenantGraphs, 'forToken'>; graphHostOf: (cloud: Cloud, tenantId: string) => Promise<string> },
  flow: RedeemedFlow,
  params: CallbackParams,
): Promise<{ tokens: RedeemedTokenSet; tenantName: string; tenantDomain: string; upn: string; graphHost: string }> {
  if (params.error) throw consentRefusal(params);
  if (!params.code) throw new FlowRefusal('STATE_INVALID', 'Microsoft sent no authorization code.');
  let tokens: RedeemedTokenSet;
  try {
    tokens = await deps.oauth.redeemCode(flow.cloud, { code: params.code, codeVerifier: flow.codeVerifier, nonce: flow.nonce, scopes: APP_PROFILE_SCOPES, tenant: 'organizations' });
  } catch (error) {
    if (error instanceof MicrosoftTokenError) {
      throw new FlowRefusal(error.errorCodes[0] ? `AADSTS${error.errorCodes[0]}` : 'MICROSOFT_ERROR', 'Microsoft refused the authorization code.');
    }
    throw new FlowRefusal('MICROSOFT_ERROR', 'The answer from Microsoft could not be verified.');
  }
  const missing = missingPermissions(tokens.grantedScopes);
  if (missing.length > 0) throw new FlowRefusal('MISSING_PERMISSIONS', `The consent lacks ${missing.join(', ')}.`, { missing });
  if (!tokens.refreshToken) throw new FlowRefusal('MISSING_PERMISSIONS', 'Microsoft granted no offline access.', { missing: ['offline_access'] });

  // The tenant's own Graph host, from its discovery document: a DoD tenant reads Graph at dod-graph.microsoft.us.
  const graphHost = await deps.graphHostOf(flow.cloud, tokens.idToken.tid);
  const graph = deps.graphs.forToken(flow.cloud, tokens.idToken.tid, tokens.accessToken, 'interactive', graphHost);
  try {
    if (!(await graph.isGlobalAdministrator())) {
      throw new FlowRefusal('NOT_GLOBAL_ADMIN', 'The account is not a Global Administrator of its tenant.');
    }
    const [org, me] = await Promise.all([graph.organization(), graph.me()]);
    const upn = me.userPrincipalName ?? tokens.idToken.preferredUsername ?? '';
    return { tokens, tenantName: org.displayName, tenantDomain: org.defaultDomain ?? org.initialDomain ?? '', upn: upn.toLowerCase(), graphHost };
  } catch (error) {
    if (error instanceof FlowRefusal) throw error;
    if (error instanceof GraphError) throw new FlowRefusal('MICROSOFT_ERROR', `Microsoft Graph answered ${error.status} ${error.code}.`);
    throw error;
  }
}

/** The columns a fresh consent sets: Active, the consenting account, the granted scopes, the tenant's Graph host and the sealed token. */
export function freshAuthorizationColumns(box: SecretBox, profileId: string, tokens: RedeemedTokenSet, upn: string, graphHost: string, now: string) {
  return {
    graph_host: graphHost,
    status: 'active' as const,
    status_code: null,
    status_message: null,
    status_fix: null,
    authorized_by_upn: upn,
    authorized_by_oid: tokens.idToken.oid,
    granted_scopes: JSON.stringify(tokens.grantedScopes),
    refresh_token_sealed: box.seal(tokens.refreshToken!, refreshTokenAad(profileId)),
    refresh_token_key_id: box.currentKeyId,
    authorized_at: now,
    token_used_at: now,
    last_checked_at: now,
    last_check_error_at: null,
    last_check_error_message: null,
  };
}

