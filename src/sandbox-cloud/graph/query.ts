import type { DirectoryGroup, DirectoryUser } from '../directory';
import { badRequest, unsupportedQuery } from './errors';
import { resolveSelect, type EntityKind } from './serialize';

/** OData query options Graph supports on directory collections, parsed and checked the way Graph does. */

export type Listable = DirectoryUser | DirectoryGroup;
export type Predicate = (object: Listable) => boolean;

export interface ListQuery {
  select: string[] | null;
  top: number;
  filter: Predicate | null;
  search: Predicate | null;
  count: boolean;
  orderBy: { property: 'displayName' | 'userPrincipalName'; descending: boolean } | null;
  skiptoken: string | null;
}

const ENTITY_NAME: Record<EntityKind, string> = { user: 'User', group: 'Group', directoryObject: 'DirectoryObject' };

type Field = 'displayName' | 'mail' | 'userPrincipalName';
const FILTERABLE: Record<EntityKind, Field[]> = {
  user: ['displayName', 'mail', 'userPrincipalName'],
  group: ['displayName', 'mail'],
  directoryObject: ['displayName', 'mail', 'userPrincipalName'],
};

function fieldValue(object: Listable, field: Field): string | null {
  if (field === 'displayName') return object.displayNameLower;
  if (field === 'mail') return object.mailLower;
  return object.kind === 'user' ? object.upnLower : null;
}

function fieldOf(kind: EntityKind, name: string): Field | undefined {
  return FILTERABLE[kind].find((f) => f.toLowerCase() === name.toLowerCase());
}

export function parseListQuery(params: URLSearchParams, kind: EntityKind, eventual: boolean, options: { maxTop?: number; defaultTop?: number } = {}): ListQuery {
  const query: ListQuery = { select: null, top: options.defaultTop ?? 100, filter: null, search: null, count: false, orderBy: null, skiptoken: params.get('$skiptoken') };

  const select = params.get('$select');
  if (select !== null) query.select = parseSelect(kind, select);

  const top = params.get('$top');
  if (top !== null) {
    const value = Number(top);
    const max = options.maxTop ?? 999;
    if (!/^\d+$/.test(top.trim()) || value < 1 || value > max) throw unsupportedQuery(`Invalid page size specified: '${top}'. Must be between 1 and ${max} inclusive.`);
    query.top = value;
  }

  const filter = params.get('$filter');
  if (filter !== null) query.filter = parseFilter(kind, filter);

  const search = params.get('$search');
  if (search !== null) {
    if (!eventual) throw unsupportedQuery("Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'");
    query.search = parseSearch(kind, search);
  }

  const count = params.get('$count');
  if (count !== null) {
    if (count !== 'true' && count !== 'false') throw badRequest(`Invalid value '${count}' for $count.`);
    if (count === 'true' && !eventual) throw unsupportedQuery("$count is not currently supported without the request header 'ConsistencyLevel: eventual'.");
    query.count = count === 'true';
  }

  const orderBy = params.get('$orderby');
  if (orderBy !== null) {
    const match = /^\s*(displayName|userPrincipalName)(?:\s+(asc|desc))?\s*$/i.exec(orderBy);
    const property = match && (match[1].toLowerCase() === 'displayname' ? 'displayName' : 'userPrincipalName');
    if (!match || (property === 'userPrincipalName' && kind === 'group')) throw unsupportedQuery(`Unsupported sort property '${orderBy}' for '${ENTITY_NAME[kind]}'.`);
    query.orderBy = { property: property!, descending: match[2]?.toLowerCase() === 'desc' };
  }
  if (params.has('$skip')) throw badRequest("'$skip' is not supported by the service.");
  return query;
}

export function parseSelect(kind: EntityKind, raw: string): string[] {
  const names = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const resolved = resolveSelect(kind, names);
  if ('unknown' in resolved) throw badRequest(`Parsing OData Select and Expand failed: Could not find a property named '${resolved.unknown}' on type 'microsoft.graph.${kind}'.`);
  return resolved.properties;
}

/** Splits on a keyword outside single-quoted strings (OData escapes a quote as ''). */
function splitOutsideQuotes(text: string, keyword: RegExp): string[] {
  const parts: string[] = [];
  let inQuote = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "'") inQuote = !inQuote;
    if (inQuote) continue;
    keyword.lastIndex = i;
    const match = keyword.exec(text);
    if (match && match.index === i) {
      parts.push(text.slice(start, i));
      start = i + match[0].length;
      i = start - 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim());
}

/** `eq` and `startswith` on displayName, mail, userPrincipalName, joined by `and` / `or`; anything else is refused like Graph. */
export function parseFilter(kind: EntityKind, raw: string): Predicate {
  const unsupported = () => unsupportedQuery(`Unsupported or invalid query filter clause specified for property '${raw}' of resource '${ENTITY_NAME[kind]}'.`);
  const alternatives = splitOutsideQuotes(raw, / or /giy).map((part) =>
    splitOutsideQuotes(part, / and /giy).map((clause) => {
      const eq = /^(\w+)\s+eq\s+'((?:[^']|'')*)'$/i.exec(clause);
      const starts = /^startswith\(\s*(\w+)\s*,\s*'((?:[^']|'')*)'\s*\)$/i.exec(clause);
      const match = eq ?? starts;
      if (!match) throw unsupported();
      const field = fieldOf(kind, match[1]);
      if (!field) throw unsupported();
      const value = match[2].replace(/''/g, "'").toLowerCase();
      return eq
        ? (o: Listable) => fieldValue(o, field) === value
        : (o: Listable) => fieldValue(o, field)?.startsWith(value) ?? false;
    }),
  );
  return (o) => alternatives.some((clauses) => clauses.every((clause) => clause(o)));
}

/** `"displayName:foo"` / `"mail:foo"` tokens (word-prefix match, case-insensitive), joined by OR / AND. */
export function parseSearch(kind: EntityKind, raw: string): Predicate {
  const tokens: { field: Field; term: string }[] = [];
  const rest = raw.replace(/"(\w+):([^"]*)"/g, (_all, name: string, term: string) => {
    const field = fieldOf(kind, name);
    if (!field) throw unsupportedQuery(`Unsupported property '${name}' in $search for '${ENTITY_NAME[kind]}'.`);
    tokens.push({ field, term: term.trim().toLowerCase() });
    return ' ';
  });
  const operators = rest.trim().split(/\s+/).filter(Boolean);
  if (tokens.length === 0 || operators.some((op) => op !== 'OR' && op !== 'AND')) {
    throw unsupportedQuery(`Syntax error: the $search value ${raw} must be "property:value" tokens joined by OR or AND.`);
  }
  const any = operators.includes('OR');
  const matches = (object: Listable, token: { field: Field; term: string }) => {
    const value = fieldValue(object, token.field);
    if (!value) return false;
    if (value.startsWith(token.term)) return true;
    return value.split(/[\s\-_.@]+/).some((word) => word.startsWith(token.term));
  };
  return (o) => (any ? tokens.some((t) => matches(o, t)) : tokens.every((t) => matches(o, t)));
}
