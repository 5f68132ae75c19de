/**
 * URL handling for the Graph client: relative paths are resolved under `{graphBase}/v1.0`, and absolute URLs
 * (`@odata.nextLink`, `@odata.deltaLink`, cursors handed back by the browser) are only accepted when they are
 * on the configured Graph base, so the access token is never sent anywhere else.
 */
import { GraphError } from './graph-errors';

export type QueryValue = string | number | boolean | undefined;
export type Query = Record<string, QueryValue>;

/** Strips a trailing slash and a trailing `/v1.0` from a Graph base URL. */
export function normalizeGraphBase(graphBase: string): URL {
  let url: URL;
  try {
    url = new URL(graphBase);
  } catch {
    throw new TypeError('graphBase must be an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError('graphBase must use http or https');
  if (url.search || url.hash) throw new TypeError('graphBase must not carry a query or fragment');
  url.pathname = url.pathname.replace(/\/+$/, '').replace(/\/v1\.0$/, '');
  return url;
}

/** Encodes a query; `$` in OData option names stays literal and spaces become %20. */
export function encodeQuery(query: Query | undefined): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    parts.push(`${encodeURIComponent(key).replace(/^%24/, '$')}=${encodeURIComponent(String(value))}`);
  }
  return parts.join('&');
}

/** True when `url` is on the Graph base: same origin and under the base path. */
export function isOnGraphBase(base: URL, url: URL): boolean {
  if (url.origin !== base.origin || url.username || url.password) return false;
  const prefix = base.pathname.replace(/\/+$/, '');
  return prefix === '' || url.pathname === prefix || url.pathname.startsWith(`${prefix}/`);
}

/** Parses an absolute link from Graph (or from a client) and refuses it unless it is on the Graph base. */
export function assertOnGraphBase(base: URL, link: string): URL {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    throw new GraphError({ status: 0, code: 'invalidLink', message: 'The paging link is not an absolute URL' });
  }
  if (!isOnGraphBase(base, url)) {
    throw new GraphError({
      status: 0,
      code: 'untrustedLink',
      message: `Refusing to follow a link outside the Graph base ${base.origin}${base.pathname}`,
    });
  }
  return url;
}

/**
 * Resolves a request target: absolute URLs must be on the Graph base; paths are relative to `/v1.0` (a path
 * that already starts with `/v1.0/` or `/beta/` is kept as is). The query is appended to either.
 */
export function resolveGraphUrl(base: URL, pathOrAbsoluteUrl: string, query?: Query): URL {
  let url: URL;
  if (/^https?:\/\//i.test(pathOrAbsoluteUrl)) {
    url = assertOnGraphBase(base, pathOrAbsoluteUrl);
  } else {
    if (!pathOrAbsoluteUrl.startsWith('/') || pathOrAbsoluteUrl.startsWith('//')) {
      throw new TypeError('Graph paths must start with a single "/"');
    }
    const versioned = /^\/(v1\.0|beta)(\/|$)/.test(pathOrAbsoluteUrl) ? pathOrAbsoluteUrl : `/v1.0${pathOrAbsoluteUrl}`;
    const prefix = base.pathname.replace(/\/+$/, '');
    url = new URL(`${base.origin}${prefix}${versioned}`);
    if (!isOnGraphBase(base, url)) throw new TypeError('Graph path escapes the Graph base');
  }
  const extra = encodeQuery(query);
  if (extra) url = new URL(`${url.origin}${url.pathname}${url.search ? `${url.search}&` : '?'}${extra}`);
  return url;
}

/** Body of a Graph collection page. */
export interface GraphPage<T> {
  value?: T[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
  '@odata.count'?: number;
}
