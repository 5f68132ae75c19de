import { decodeBase64UrlJson, encodeBase64UrlJson } from '../crypto-utils';
import { lowerBoundBySeq, type DirectoryGroup, type Tenant } from '../directory';
import { GraphError } from './errors';
import { serializeGroup, serializeUser } from './serialize';

/**
 * Delta queries on /users/delta and /groups/delta. A round without a token lists every object (groups with
 * `members@delta`), paged by `$skiptoken`, and ends with a `@odata.deltaLink` naming the tenant's change-log
 * position when the round began. The next round returns only what the log recorded since: changed objects,
 * `@removed` entries for deleted ones, and `members@delta` additions / removals.
 */

export type DeltaKind = 'user' | 'group';

interface DeltaState {
  e: string; // tenant epoch (a fixture reload invalidates every token)
  k: DeltaKind;
  sel: string[] | null;
  mem: boolean; // include members@delta
  from: number | null; // null: initial round
  to: number;
  pos: number; // initial: last seq served; changes: offset in the change list
}

const resync = () =>
  new GraphError(410, 'resyncRequired', "Resync required. Replace any local items with the server's version (including deletes) if you're sure that the service was up to date with your local changes when you last sync'd. Start a new delta round without a token.");

export function parseDeltaToken(tenant: Tenant, kind: DeltaKind, token: string, isDeltaToken: boolean): DeltaState {
  const state = decodeBase64UrlJson<DeltaState>(token);
  if (!state || state.e !== tenant.epoch || state.k !== kind || !Number.isInteger(state.to) || state.to > tenant.changeSeq) throw resync();
  // A deltaLink starts a changes round from where the previous round ended.
  return isDeltaToken ? { ...state, from: state.to, to: tenant.changeSeq, pos: 0 } : state;
}

export function initialDeltaState(tenant: Tenant, kind: DeltaKind, select: string[] | null, includeMembers: boolean): DeltaState {
  return { e: tenant.epoch, k: kind, sel: select, mem: includeMembers, from: null, to: tenant.changeSeq, pos: 0 };
}

export interface DeltaPage {
  value: Record<string, unknown>[];
  skiptoken: string | null;
  deltatoken: string | null;
}

function withId(object: Record<string, unknown>, id: string): Record<string, unknown> {
  return 'id' in object ? object : { ...object, id };
}

function memberRefs(tenant: Tenant, group: DirectoryGroup): Record<string, unknown>[] {
  return [...group.members].map((id) => ({ '@odata.type': `#microsoft.graph.${tenant.findObject(id)?.kind ?? 'user'}`, id }));
}

function serialize(tenant: Tenant, state: DeltaState, id: string): Record<string, unknown> | null {
  if (state.k === 'user') {
    const user = tenant.usersById.get(id);
    return user ? withId(serializeUser(user, state.sel), id) : null;
  }
  const group = tenant.groupsById.get(id);
  return group ? withId(serializeGroup(group, state.sel), id) : null;
}

export function deltaPage(tenant: Tenant, state: DeltaState, pageSize: number): DeltaPage {
  return state.from === null ? initialPage(tenant, state, pageSize) : changesPage(tenant, state, pageSize);
}

function initialPage(tenant: Tenant, state: DeltaState, pageSize: number): DeltaPage {
  const source = state.k === 'user' ? tenant.users : tenant.groups;
  const start = lowerBoundBySeq(source, state.pos + 1);
  const slice = source.slice(start, start + pageSize);
  const value = slice.map((object) => {
    const item = serialize(tenant, state, object.id)!;
    if (object.kind === 'group' && state.mem) item['members@delta'] = memberRefs(tenant, object);
    return item;
  });
  if (start + pageSize < source.length) {
    return { value, skiptoken: encodeBase64UrlJson({ ...state, pos: slice[slice.length - 1].seq }), deltatoken: null };
  }
  return { value, skiptoken: null, deltatoken: encodeBase64UrlJson({ ...state, from: null, pos: 0 }) };
}

/** Collapses log entries (from, to] into one item per changed object, in order of first change. */
function collectChanges(tenant: Tenant, state: DeltaState): Record<string, unknown>[] {
  const perObject = new Map<string, { deleted: boolean; members: Map<string, { added: boolean; type: string }> }>();
  for (let i = state.from!; i < state.to; i++) {
    const entry = tenant.changes[i];
    if (entry.objectType !== state.k) continue;
    const record = perObject.get(entry.id) ?? { deleted: false, members: new Map() };
    perObject.set(entry.id, record);
    if (entry.change === 'delete') record.deleted = true;
    else if (entry.change === 'upsert') record.deleted = false;
    else record.members.set(entry.memberId!, { added: entry.change === 'memberAdded', type: entry.memberType ?? 'user' });
  }
  const items: Record<string, unknown>[] = [];
  for (const [id, record] of perObject) {
    const current = record.deleted ? null : serialize(tenant, state, id);
    if (!current) {
      items.push({ id, '@removed': { reason: 'deleted' } });
      continue;
    }
    if (state.k === 'group' && state.mem && record.members.size > 0) {
      current['members@delta'] = [...record.members].map(([memberId, change]) =>
        change.added
          ? { '@odata.type': `#microsoft.graph.${change.type}`, id: memberId }
          : { '@odata.type': `#microsoft.graph.${change.type}`, id: memberId, '@removed': { reason: 'deleted' } },
      );
    }
    items.push(current);
  }
  return items;
}

function changesPage(tenant: Tenant, state: DeltaState, pageSize: number): DeltaPage {
  const all = collectChanges(tenant, state);
  const value = all.slice(state.pos, state.pos + pageSize);
  if (state.pos + pageSize < all.length) return { value, skiptoken: encodeBase64UrlJson({ ...state, pos: state.pos + pageSize }), deltatoken: null };
  return { value, skiptoken: null, deltatoken: encodeBase64UrlJson({ ...state, from: null, pos: 0 }) };
}
