import { portalPagePath } from './portal-pages';

/** Where a round trip to Microsoft ends: the page it started from, with the outcome in the query. */
export interface FlowOutcome {
  result: 'created' | 'reauthorized' | 'signed_in' | 'error';
  code?: string;
  profileId?: string;
  missing?: string[];
}

/** Only the portal's own pages are accepted as return targets (see portal-pages.ts). */
export function safeReturnPath(value: string | null | undefined, fallback: string): string {
  return portalPagePath(value) ?? fallback;
}

/** The page with the outcome in its query; a stored target that is not a portal page ends on `fallback`. */
export function outcomeUrl(path: string, outcome: FlowOutcome, fallback = '/'): string {
  const url = new URL(portalPagePath(path) ?? fallback, 'http://portal.invalid');
  url.searchParams.set('result', outcome.result);
  if (outcome.code) url.searchParams.set('code', outcome.code);
  if (outcome.profileId) url.searchParams.set('profileId', outcome.profileId);
  if (outcome.missing?.length) url.searchParams.set('missing', outcome.missing.join(','));
  return `${url.pathname}${url.search}`;
}

/**
 * Every code a round trip to Microsoft may end with on a portal page (`?result=error&code=...`), besides
 * `AADSTSnnnn` (Microsoft's own code). The web has a sentence for each (src/web/outcomes.ts, unit-tested).
 */
export const ROUND_TRIP_REFUSAL_CODES = [
  'CONSENT_CANCELLED',
  'NOT_GLOBAL_ADMIN',
  'TENANT_ALREADY_CONNECTED',
  'MISSING_PERMISSIONS',
  'WRONG_TENANT',
  'STATE_INVALID',
  'NAME_TAKEN',
  'PROFILE_NOT_FOUND',
  'MICROSOFT_ERROR',
] as const;

export type RoundTripRefusalCode = (typeof ROUND_TRIP_REFUSAL_CODES)[number] | `AADSTS${number}`;

/** A refusal in the middle of a round trip: becomes `?result=error&code=...` on the page, nothing stored. */
export class FlowRefusal extends Error {
  constructor(
    readonly code: RoundTripRefusalCode,
    message: string,
    readonly extra: { profileId?: string; missing?: string[]; details?: Record<string, unknown> } = {},
  ) {
    super(message);
  }
}

/**
 * An unexpected failure (not a refusal) after the feature put its own state right: the callback route logs
 * `cause` and still sends the browser to `location`, the page that tells the outcome.
 */
export class SettledFlowError extends Error {
  constructor(
    readonly location: string,
    cause: unknown,
  ) {
    super('A round trip to Microsoft failed unexpectedly', { cause });
  }
}
