import { newGuid } from '../crypto-utils';

/**
 * Entra ID's OAuth error body: `error`, `error_description` ("AADSTSnnnn: message\r\nTrace ID: …"),
 * `error_codes`, `timestamp`, `trace_id`, `correlation_id`, `error_uri`. Clients branch on `error` and `error_codes`.
 */
export interface AadErrorBody {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
  suberror?: string;
}

export class AadError extends Error {
  constructor(
    readonly error: string,
    readonly code: number,
    readonly detail: string,
    readonly status = 400,
    readonly suberror?: string,
  ) {
    super(`AADSTS${code}: ${detail}`);
  }
}

/** Entra's timestamp format: `2024-05-01 12:34:56Z`. */
export function aadTimestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

export function aadErrorBody(failure: AadError, now: Date, loginBase: string, correlationId = newGuid()): AadErrorBody {
  const traceId = newGuid();
  const timestamp = aadTimestamp(now);
  return {
    error: failure.error,
    error_description: `AADSTS${failure.code}: ${failure.detail}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
    error_codes: [failure.code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `${loginBase}/error?code=${failure.code}`,
    ...(failure.suberror ? { suberror: failure.suberror } : {}),
  };
}

/** The messages Entra uses for the codes the sandbox produces. */
export const aad = {
  tenantNotFound: (tenant: string) =>
    new AadError('invalid_tenant', 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`),
  appNotFound: (clientId: string, directory: string) =>
    new AadError('unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${directory}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`),
  redirectMismatch: (redirectUri: string, clientId: string) =>
    new AadError('invalid_request', 50011, `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${clientId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.`),
  missingParameter: (name: string) => new AadError('invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`),
  invalidCodeChallengeMethod: () => new AadError('invalid_request', 501491, "Invalid code_challenge_method. The sandbox requires PKCE with 'S256'."),
  unsupportedResponseType: (value: string) => new AadError('unsupported_response_type', 700054, `response_type '${value}' is not enabled for the application.`),
  invalidPrompt: (value: string) => new AadError('invalid_request', 90023, `Unsupported 'prompt' value '${value}'.`),
  invalidScope: (scope: string) =>
    new AadError('invalid_scope', 70011, `The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`),
  missingClientSecret: () => new AadError('invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.", 401),
  wrongClientSecret: (clientId: string) =>
    new AadError('invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`, 401),
  unsupportedGrantType: (grantType: string) => new AadError('unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType}'.`),
  malformedGrant: () => new AadError('invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.'),
  codeRedeemed: () => new AadError('invalid_grant', 54005, 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.'),
  grantExpired: () =>
    new AadError('invalid_grant', 70008, 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.'),
  verifierMismatch: () => new AadError('invalid_grant', 501481, 'The Code_Verifier does not match the code_challenge supplied in the authorization request.'),
  grantClientMismatch: () => new AadError('invalid_grant', 70000, 'The provided grant was issued to a different client or is not valid for this request.'),
  redirectUriGrantMismatch: () =>
    new AadError('invalid_grant', 70000, "The provided value for the 'redirect_uri' is not valid. The value must exactly match the redirect URI used to obtain the authorization code."),
  refreshInactive: (issued: Date) =>
    new AadError('invalid_grant', 700082, `The refresh token has expired due to inactivity. The token was issued on ${issued.toISOString()} and was inactive for 90.00:00:00.`),
  grantRevoked: (issued: Date, validFrom: Date) =>
    new AadError('invalid_grant', 50173, `The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '${issued.toISOString()}' and the TokensValidFrom date (before which tokens are not valid) for this user is '${validFrom.toISOString()}'.`),
  consentMissing: (clientId: string, appName: string) =>
    new AadError('invalid_grant', 65001, `The user or administrator has not consented to use the application with ID '${clientId}' named '${appName}'. Send an interactive authorization request for this user and resource.`, 400, 'consent_required'),
  userDeclined: () => new AadError('access_denied', 65004, 'User declined to consent to access the app.'),
  loginRequired: () =>
    new AadError('login_required', 50058, "A silent sign-in request was sent but no user is signed in. The cookies used to represent the user's session were not sent in the request to Azure AD."),
  multipleAccounts: () => new AadError('interaction_required', 16000, 'Either multiple user identities are available for the current request or selected account is not supported for the scenario.'),
  adminApprovalNeeded: () => new AadError('access_denied', 90094, 'The grant requires admin permission.'),
  accountDisabled: () => new AadError('invalid_grant', 50057, 'The user account is disabled.'),
  userNotFound: (tenantName: string) =>
    new AadError('invalid_grant', 50034, `The user account {EUII Hidden} does not exist in the ${tenantName} directory. To sign into this application, the account must be added to the directory.`),
  userNotInTenant: (upn: string, tenantName: string, clientId: string) =>
    new AadError('invalid_request', 50020, `User account '${upn}' from identity provider does not exist in tenant '${tenantName}' and cannot access the application '${clientId}' in that tenant. The account needs to be added as an external user in the tenant first.`),
};
