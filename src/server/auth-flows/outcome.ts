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

/** A refusal in the middle of a round trip: becomes `?result=error&code=...` on the page, nothing stored. */
export class FlowRefusal extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly extra: { profileId?: string; missing?: string[]; details?: Record<string, unknown> } = {},
  ) {
    super(message);
  }
}
