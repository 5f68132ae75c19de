/**
 * The pages of the web app (src/web/App.tsx). A redirect target chosen by a request (`returnTo`, `next`)
 * may only name one of them: an exact path from this list and a plain query. Nothing is normalised or
 * decoded before the check, so dot segments, encoded or doubled slashes, backslashes, control
 * characters, schemes and `user@host` forms cannot turn into another origin afterwards.
 * Pure (no Node imports): the web app uses it too.
 */
export const PORTAL_PAGES: readonly string[] = [
  '/',
  '/signin',
  '/signup',
  '/activate',
  '/settings',
  '/settings/app-profiles',
  '/settings/users',
  '/settings/audit',
  // Served by the server (consent-links/routes.ts): where a round trip started from a consent link ends.
  '/consent/done',
];

/** Unreserved characters, percent escapes, `=`, `&` and `+`: no `/`, `\`, `:`, `@`, `#` or whitespace. */
const PLAIN_QUERY = /^(?:[A-Za-z0-9._~=&+-]|%[0-9A-Fa-f]{2})*$/;
const MAX_LENGTH = 500;

/** The value itself when it is one of the portal's pages with a plain query, else null. */
export function portalPagePath(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > MAX_LENGTH) return null;
  const mark = value.indexOf('?');
  const path = mark === -1 ? value : value.slice(0, mark);
  const query = mark === -1 ? '' : value.slice(mark + 1);
  if (!PORTAL_PAGES.includes(path) || !PLAIN_QUERY.test(query)) return null;
  return query ? `${path}?${query}` : path;
}
