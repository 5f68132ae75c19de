// Code → message tables for the outcomes the backend reports through the URL.
import { portalPagePath } from '../server/auth-flows/portal-pages';
import { describeAadsts } from '../server/microsoft/aadsts';

export type OutcomeIntent = 'success' | 'error';

export interface Outcome {
  intent: OutcomeIntent;
  message: string;
}

/** What `?result=…&code=…&profileId=…&missing=…` carried back from the Microsoft round trip. */
export interface RoundTripResult {
  result: string;
  code: string | null;
  profileId: string | null;
  missing: string[];
}

export const ROUND_TRIP_PARAMS = ['result', 'code', 'profileId', 'missing'] as const;

export function readRoundTripResult(params: URLSearchParams): RoundTripResult | null {
  const result = params.get('result');
  if (!result) return null;
  const missing = (params.get('missing') ?? '')
    .split(',')
    .map((scope) => scope.trim())
    .filter(Boolean);
  return { result, code: params.get('code'), profileId: params.get('profileId'), missing };
}

/** Removes the round-trip parameters, keeping anything else the page uses. */
export function withoutRoundTripParams(params: URLSearchParams): URLSearchParams {
  const next = new URLSearchParams(params);
  for (const name of ROUND_TRIP_PARAMS) next.delete(name);
  return next;
}

interface ErrorContext {
  profileName: string | null;
  missing: string[];
}

const consentErrors: Record<string, (context: ErrorContext) => string> = {
  CONSENT_CANCELLED: () => 'Consent was cancelled at Microsoft. Nothing was changed. Try again and click Accept.',
  NOT_GLOBAL_ADMIN: () =>
    'The Microsoft 365 account is not a Global Administrator of its tenant. Sign in with a Global Administrator.',
  TENANT_ALREADY_CONNECTED: ({ profileName }) =>
    profileName
      ? `This Microsoft 365 tenant is already connected as app profile “${profileName}”. Use Re-authorize app on that profile instead.`
      : 'This Microsoft 365 tenant is already connected as another app profile. Use Re-authorize app on that profile instead.',
  MISSING_PERMISSIONS: ({ missing }) =>
    `The consent did not grant every required permission. Missing: ${missing.length ? missing.join(', ') : 'unknown'}. Nothing was changed. Start again as a Global Administrator and accept every permission; if the tenant’s app consent policy blocks one, allow it in Microsoft Entra first.`,
  WRONG_TENANT: () =>
    'That account belongs to another Microsoft 365 tenant than this app profile. Sign in with a Global Administrator of the profile’s tenant.',
  STATE_INVALID: () =>
    'The sign-in could not be verified (it expired or was already used). Nothing was changed. Please start again.',
  NAME_TAKEN: () =>
    'Another app profile already has this name. Nothing was changed. Choose another name and start again.',
  PROFILE_NOT_FOUND: () =>
    'The app profile was deleted while you were at Microsoft. Nothing was changed. Create a new app profile instead.',
  MICROSOFT_ERROR: () =>
    'Microsoft’s answer could not be used: it could not be verified, or Microsoft Graph did not respond as expected. Nothing was changed. Try again in a few minutes; if it keeps failing, check the Microsoft 365 service health.',
};

/** Microsoft's own code (`AADSTS700082`): what happened and what to do, from the server's AADSTS table. */
function aadstsSentence(code: string): string | null {
  const match = /^AADSTS(\d+)$/.exec(code);
  if (!match) return null;
  const info = describeAadsts(Number(match[1]));
  return `${info.cause} ${info.fix} Nothing was changed. (${code})`;
}

export function roundTripOutcome(result: RoundTripResult, profileName: string | null = null): Outcome {
  const named = profileName ? ` “${profileName}” is active.` : '';
  if (result.result === 'created') return { intent: 'success', message: `App profile created.${named}` };
  if (result.result === 'reauthorized') return { intent: 'success', message: `App authorized again.${named}` };
  const code = result.code ?? 'UNKNOWN';
  const describe = Object.hasOwn(consentErrors, code) ? consentErrors[code] : undefined;
  const message =
    describe?.({ profileName, missing: result.missing }) ??
    aadstsSentence(code) ??
    `The round trip to Microsoft did not finish (${code}). Nothing was changed. Start again; if it keeps failing, sign out and back in to the portal first.`;
  return { intent: 'error', message };
}

const signInErrors: Record<string, string> = {
  NOT_ADDED: 'Your Microsoft 365 account has not been added to Tenantgate. Ask your administrator.',
  ACCOUNT_DISABLED: 'Your Tenantgate account is disabled. Ask your administrator.',
  REMOVED_FROM_GROUP:
    'You are no longer a member of the Microsoft 365 group that gave you access to Tenantgate. Ask your administrator.',
  PROFILE_EXPIRED:
    'Your organization’s Microsoft 365 connection needs attention. Ask your administrator to re-authorize the app profile.',
  CONSENT_REMOVED:
    'Microsoft refused the sign-in: your organization’s consent for the Tenantgate app was removed. Ask your administrator to have a Microsoft 365 Global Administrator re-authorize the app profile.',
  APP_DISABLED:
    'Microsoft refused the sign-in: the Tenantgate app is disabled or was deleted in your organization’s Microsoft 365 tenant. Ask your Microsoft 365 administrator to enable it, then your administrator to re-authorize the app profile.',
  EMAIL_IN_USE:
    'Another Tenantgate account of this partner already uses your email address. Ask your administrator.',
  MICROSOFT_ERROR: 'Microsoft could not complete the sign-in. Please try again in a few minutes; if it keeps failing, ask your administrator.',
  STATE_INVALID: 'The sign-in could not be verified (it expired or was already used). Please sign in again.',
};

export function signInErrorMessage(code: string): string {
  return (Object.hasOwn(signInErrors, code) ? signInErrors[code] : undefined) ?? `Sign in with Microsoft 365 failed (${code}). Please try again.`;
}

/** Only the portal's own pages are followed after sign-in or a dialog; anything else goes home. */
export function safeNextPath(next: string | null | undefined): string {
  return portalPagePath(next) ?? '/';
}
