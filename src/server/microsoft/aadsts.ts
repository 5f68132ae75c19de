/**
 * Plain-language explanations of the AADSTS error codes a partner administrator may run into, with what to do
 * and whether the error means the stored delegated authorization is dead (must be authorized again).
 */
import type { MicrosoftTokenError } from './errors';

export interface AadstsInfo {
  /** What happened, in words a partner's administrator understands. */
  cause: string;
  /** What to do about it. */
  fix: string;
  /** True when, returned for a refresh, the stored authorization can no longer be used and must be renewed. */
  expiresAuthorization: boolean;
}

export const AADSTS_CODES = [
  700082, 70008, 50173, 70043, 65001, 65004, 50076, 50079, 50078, 53003, 50057, 90002, 700016, 7000215, 7000222,
  90094, 50126, 54005, 501481, 50011, 50058,
] as const;

export type KnownAadstsCode = (typeof AADSTS_CODES)[number];

const REAUTHORIZE = 'Authorize the app profile again with a Global Administrator account of the tenant.';

export const AADSTS: Readonly<Record<KnownAadstsCode, AadstsInfo>> = Object.freeze({
  700082: {
    cause: 'The authorization expired because it was not used for 90 days.',
    fix: REAUTHORIZE,
    expiresAuthorization: true,
  },
  70008: {
    cause: 'The authorization has expired or was revoked in Microsoft 365.',
    fix: REAUTHORIZE,
    expiresAuthorization: true,
  },
  50173: {
    cause:
      "The authorization was revoked in Microsoft 365: an administrator reset the authorizing user's password or revoked their sign-in sessions.",
    fix: REAUTHORIZE,
    expiresAuthorization: true,
  },
  70043: {
    cause: "The tenant's Conditional Access sign-in frequency policy requires the user to sign in again.",
    fix: `${REAUTHORIZE} If this happens often, review the sign-in frequency setting of the Conditional Access policy.`,
    expiresAuthorization: true,
  },
  65001: {
    cause: 'The app no longer has consent in the tenant: consent was removed, or the app now needs permissions that were not granted.',
    fix: 'Authorize the app profile again as a Global Administrator and accept the requested permissions.',
    expiresAuthorization: true,
  },
  65004: {
    cause: 'The user declined to grant the requested permissions.',
    fix: 'Start the authorization again and select Accept on the Microsoft consent screen.',
    expiresAuthorization: false,
  },
  50076: {
    cause: 'The tenant requires multi-factor authentication for this sign-in.',
    fix: 'Authorize the app profile again and complete multi-factor authentication.',
    expiresAuthorization: true,
  },
  50079: {
    cause: 'The user must register for multi-factor authentication before signing in.',
    fix: 'Have the user set up multi-factor authentication, then authorize the app profile again.',
    expiresAuthorization: true,
  },
  50078: {
    cause: "The user's multi-factor authentication has expired.",
    fix: 'Authorize the app profile again and complete multi-factor authentication.',
    expiresAuthorization: true,
  },
  53003: {
    cause: 'A Conditional Access policy of the tenant blocks this app or this sign-in.',
    fix: 'Ask the tenant administrator to adjust the Conditional Access policy, then authorize the app profile again.',
    expiresAuthorization: true,
  },
  50057: {
    cause: 'The user account used for the authorization is disabled.',
    fix: 'Authorize the app profile again with an enabled Global Administrator account.',
    expiresAuthorization: true,
  },
  90002: {
    cause: 'Microsoft could not find the tenant. It may have been deleted, or it lives in the other Microsoft cloud.',
    fix: 'Check the tenant, and pick the other cloud (Global or U.S. Government) if it belongs there; then authorize again.',
    expiresAuthorization: true,
  },
  700016: {
    cause: 'The app was not found in the tenant; it may have been deleted from the tenant\'s enterprise applications.',
    fix: 'Authorize the app profile again as a Global Administrator so that the app is added and consented again.',
    expiresAuthorization: true,
  },
  7000215: {
    cause: "The portal's client secret for the Microsoft app registration is wrong.",
    fix: 'The portal operator must configure the correct client secret of the app registration. No action is needed in the tenant.',
    expiresAuthorization: false,
  },
  7000222: {
    cause: "The portal's client secret for the Microsoft app registration has expired.",
    fix: 'The portal operator must create a new client secret for the app registration and configure it. No action is needed in the tenant.',
    expiresAuthorization: false,
  },
  90094: {
    cause: 'Administrator approval is needed: the signed-in user is not allowed to consent to these permissions.',
    fix: 'Sign in with a Global Administrator account of the tenant.',
    expiresAuthorization: false,
  },
  50126: {
    cause: 'The account name or password is incorrect.',
    fix: 'Sign in again with the correct account and password.',
    expiresAuthorization: false,
  },
  54005: {
    cause: 'The sign-in response was already used.',
    fix: 'Start the sign-in again.',
    expiresAuthorization: false,
  },
  501481: {
    cause: 'The sign-in response did not match the sign-in request (code verifier mismatch).',
    fix: 'Start the sign-in again in the same browser.',
    expiresAuthorization: false,
  },
  50011: {
    cause: "The portal's reply address is not registered on the Microsoft app registration.",
    fix: 'The portal operator must register the redirect URI shown by `npm run manifest` on the app registration.',
    expiresAuthorization: false,
  },
  50058: {
    cause: 'A silent sign-in was attempted but no user is signed in to Microsoft in this browser.',
    fix: 'Start the sign-in again and sign in with Microsoft.',
    expiresAuthorization: false,
  },
});

export function isKnownAadstsCode(code: number): code is KnownAadstsCode {
  return Object.prototype.hasOwnProperty.call(AADSTS, code);
}

/** Explanation of an AADSTS code, with a sensible default for codes not in the table. */
export function describeAadsts(code: number): AadstsInfo {
  if (isKnownAadstsCode(code)) return AADSTS[code];
  return {
    cause: `Microsoft refused the request (AADSTS${code}).`,
    fix: 'Try again later. If the problem persists, authorize the app profile again and look up the code in Microsoft\'s error reference.',
    expiresAuthorization: false,
  };
}

/** OAuth `error` values that, without a more specific code, mean the grant itself is unusable. */
const GRANT_KILLING_ERRORS = new Set(['invalid_grant', 'interaction_required', 'consent_required']);

/** True when the refresh error means the stored authorization is dead and must be authorized again. */
export function errorExpiresAuthorization(error: MicrosoftTokenError): boolean {
  const known = error.errorCodes.find(isKnownAadstsCode);
  if (known !== undefined) return AADSTS[known].expiresAuthorization;
  return GRANT_KILLING_ERRORS.has(error.error);
}

export interface StatusReason {
  /** e.g. `AADSTS700082`, or the OAuth error (`invalid_grant`) when Microsoft gave no code. */
  code: string;
  message: string;
  fix: string;
}

/** The status reason to show on an app profile after a token error. */
export function statusReasonFor(error: MicrosoftTokenError): StatusReason {
  const code = error.errorCodes.find(isKnownAadstsCode) ?? error.errorCodes[0];
  if (code !== undefined) {
    const info = describeAadsts(code);
    return { code: `AADSTS${code}`, message: info.cause, fix: info.fix };
  }
  if (GRANT_KILLING_ERRORS.has(error.error)) {
    return {
      code: error.error,
      message: 'Microsoft no longer accepts the authorization.',
      fix: REAUTHORIZE,
    };
  }
  return {
    code: error.error,
    message: `Microsoft refused the request (${error.error}).`,
    fix: 'Try again later. If the problem persists, authorize the app profile again.',
  };
}
