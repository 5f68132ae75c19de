/**
 * Open-redirect payloads: each tries to make a `returnTo` / `next` value end on another origin after
 * the browser (or `new URL`) has normalised it.
 */
export const REDIRECT_PAYLOADS: readonly string[] = [
  '//evil.example/x',
  '/.//evil.example/x',
  '/a/..//evil.example',
  '/%2e//evil.example',
  '/%2E%2E//evil.example',
  '/.%2F/evil.example',
  '/%2f%2fevil.example',
  '%2F%2Fevil.example',
  '/%5c%5cevil.example',
  '/\\evil.example',
  '\\\\evil.example',
  'http:/\\evil.example',
  '/\t/evil.example',
  '\t//evil.example',
  '/\n/evil.example',
  '/\r\n/evil.example',
  '/%09/evil.example',
  '///evil.example',
  'https:evil.example',
  'https://evil.example/settings/users',
  'javascript:alert(1)',
  'JaVaScRiPt:alert(document.domain)',
  'data:text/html,<script>alert(1)</script>',
  '/settings/..//evil.example',
  '/settings/users/../../..//evil.example',
  '//evіl.example', // Cyrillic "і" (IDN homograph)
  '//xn--evl-w7b.example',
  '//evil。example', // ideographic full stop
  '/@evil.example',
  '//portal@evil.example',
  '/settings/users?x=1#@evil.example',
  '/settings/users?next=//evil.example',
  '/settings/users\\@evil.example',
  ' //evil.example',
];

/** What a browser does with a Location header: resolve it against the page it came from. */
export const sameOrigin = (location: string, base: string): boolean => new URL(location, base).origin === new URL(base).origin;
