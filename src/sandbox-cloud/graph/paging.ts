import { decodeBase64UrlJson, encodeBase64UrlJson } from '../crypto-utils';
import { lowerBoundBySeq, type Tenant } from '../directory';
import { GraphError } from './errors';
import type { ListQuery, Listable, Predicate } from './query';

/**
 * Paging with opaque `$skiptoken`s. Collections ordered by seq resume after the last seq served, so a page
 * boundary never repeats or skips an object even when others are added or deleted in between; sorted views and
 * small sub-collections resume at an offset.
 */

type Cursor = { after: number } | { offset: number };

export function encodeCursor(cursor: Cursor): string {
  return encodeBase64UrlJson(cursor);
}

export function decodeCursor(token: string): Cursor {
  const cursor = decodeBase64UrlJson<Cursor>(token);
  const valid = cursor && typeof cursor === 'object' && (Number.isInteger((cursor as { after?: number }).after) || Number.isInteger((cursor as { offset?: number }).offset));
  if (!valid) throw new GraphError(400, 'Directory_ExpiredPageToken', 'The specified page token value has expired and can no longer be included in your request.');
  return cursor;
}

export interface Page<T> {
  items: T[];
  skiptoken: string | null;
  count?: number;
}

const sortedViews = new WeakMap<Tenant, Map<string, { version: number; items: Listable[] }>>();

function sortedView(tenant: Tenant, source: readonly Listable[], kind: string, orderBy: NonNullable<ListQuery['orderBy']>): Listable[] {
  const key = `${kind}|${orderBy.property}|${orderBy.descending}`;
  const views = sortedViews.get(tenant) ?? new Map();
  sortedViews.set(tenant, views);
  const cached = views.get(key);
  if (cached && cached.version === tenant.version) return cached.items;
  const sortKey = (o: Listable) => (orderBy.property === 'displayName' ? o.displayNameLower : o.kind === 'user' ? o.upnLower : o.displayNameLower);
  const items = [...source].sort((a, b) => {
    const x = sortKey(a);
    const y = sortKey(b);
    const order = x < y ? -1 : x > y ? 1 : a.seq - b.seq;
    return orderBy.descending ? -order : order;
  });
  views.set(key, { version: tenant.version, items });
  return items;
}

/** One page of a tenant's users or groups under $filter / $search / $orderby / $count. */
export function pageDirectoryCollection(tenant: Tenant, source: readonly Listable[], kind: string, query: ListQuery): Page<Listable> {
  const predicates = [query.filter, query.search].filter((p): p is Predicate => p !== null);
  const matches = predicates.length === 0 ? null : (o: Listable) => predicates.every((p) => p(o));
  const cursor = query.skiptoken ? decodeCursor(query.skiptoken) : null;
  const count = query.count ? (matches ? source.reduce((n, o) => (matches(o) ? n + 1 : n), 0) : source.length) : undefined;

  if (query.orderBy) {
    const sorted = sortedView(tenant, source, kind, query.orderBy);
    const all = matches ? sorted.filter(matches) : sorted;
    const offset = cursor && 'offset' in cursor ? cursor.offset : 0;
    const items = all.slice(offset, offset + query.top);
    return { items, skiptoken: offset + query.top < all.length ? encodeCursor({ offset: offset + query.top }) : null, count };
  }

  let index = cursor && 'after' in cursor ? lowerBoundBySeq(source, cursor.after + 1) : 0;
  if (!matches) {
    const items = source.slice(index, index + query.top);
    const more = index + query.top < source.length;
    return { items, skiptoken: more && items.length > 0 ? encodeCursor({ after: items[items.length - 1].seq }) : null, count };
  }
  const items: Listable[] = [];
  for (; index < source.length && items.length < query.top; index++) if (matches(source[index])) items.push(source[index]);
  let more = false;
  for (; index < source.length; index++) {
    if (matches(source[index])) {
      more = true;
      break;
    }
  }
  return { items, skiptoken: more ? encodeCursor({ after: items[items.length - 1].seq }) : null, count };
}

/** One page of a small computed collection (members, memberOf), by offset. */
export function pageArray<T>(all: readonly T[], top: number, skiptoken: string | null): Page<T> {
  const cursor = skiptoken ? decodeCursor(skiptoken) : null;
  const offset = cursor && 'offset' in cursor ? cursor.offset : 0;
  return { items: all.slice(offset, offset + top), skiptoken: offset + top < all.length ? encodeCursor({ offset: offset + top }) : null };
}

/** An absolute link to the same request with other paging parameters (keys keep Graph's literal `$`). */
export function linkWith(requestUrl: URL, replace: Record<string, string>, keep = true): string {
  const params: [string, string][] = keep ? [...requestUrl.searchParams].filter(([key]) => !(key in replace) && key !== '$skiptoken' && key !== '$deltatoken') : [];
  for (const [key, value] of Object.entries(replace)) params.push([key, value]);
  const query = params.map(([key, value]) => `${key.replace(/[^$\w.-]/g, encodeURIComponent)}=${encodeURIComponent(value)}`).join('&');
  return `${requestUrl.origin}${requestUrl.pathname}${query ? `?${query}` : ''}`;
}
