import { randomUUID } from 'node:crypto';
import type { Db } from '../db/database';
import type { AuditEventsTable } from '../db/tables';
import { containing } from '../db/like';
import type { AuditAction } from './actions';

export interface AuditEntry {
  partnerId: string | null;
  actor?: { userId?: string | null; email?: string | null };
  action: AuditAction;
  target?: { type: string; id?: string | null; name?: string | null };
  outcome: 'success' | 'failure';
  clientAddress?: string | null;
  /** Plain facts only (codes, counts, the Microsoft account used): never tokens or passwords. */
  details?: Record<string, unknown>;
}

export interface AuditEvent {
  id: string;
  at: string;
  actorEmail: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  targetName: string | null;
  outcome: 'success' | 'failure';
  clientAddress: string | null;
  details: Record<string, unknown> | null;
}

export interface AuditFilters {
  action?: string;
  outcome?: 'success' | 'failure';
  actor?: string;
  /** Entries at or after this moment (ISO 8601). */
  from?: string;
  /** Entries before this moment (ISO 8601). */
  to?: string;
}

export interface AuditQuery extends AuditFilters {
  limit: number;
  cursor?: string;
}

export type AuditLog = ReturnType<typeof createAuditLog>;

export function createAuditLog(db: Db) {
  function filtered(partnerId: string, filters: AuditFilters) {
    let q = db.selectFrom('audit_events').selectAll().where('partner_id', '=', partnerId);
    if (filters.action) q = q.where('action', '=', filters.action);
    if (filters.outcome) q = q.where('outcome', '=', filters.outcome);
    // Part of the actor's address is enough ("pat" finds pat@contoso.com), in any letter case.
    if (filters.actor) q = q.where((eb) => eb(eb.fn('lower', ['actor_email']), 'like', containing(filters.actor!)));
    if (filters.from) q = q.where('at', '>=', filters.from);
    if (filters.to) q = q.where('at', '<', filters.to);
    return q;
  }

  return {
    async record(entry: AuditEntry, executor: Db = db): Promise<void> {
      await executor
        .insertInto('audit_events')
        .values({
          id: randomUUID(),
          partner_id: entry.partnerId,
          at: new Date().toISOString(),
          actor_user_id: entry.actor?.userId ?? null,
          actor_email: entry.actor?.email ?? null,
          action: entry.action,
          target_type: entry.target?.type ?? null,
          target_id: entry.target?.id ?? null,
          target_name: entry.target?.name ?? null,
          outcome: entry.outcome,
          client_address: entry.clientAddress ?? null,
          details: entry.details ? JSON.stringify(entry.details) : null,
        })
        .execute();
    },

    /** Newest first, keyset-paged on (at, id) and always scoped to one partner. */
    async list(partnerId: string, query: AuditQuery): Promise<{ items: AuditEvent[]; nextCursor: string | null }> {
      let q = filtered(partnerId, query);
      const after = decodeCursor(query.cursor);
      if (after) {
        q = q.where((eb) => eb.or([eb('at', '<', after.at), eb.and([eb('at', '=', after.at), eb('id', '<', after.id)])]));
      }
      const rows = await q.orderBy('at', 'desc').orderBy('id', 'desc').limit(query.limit + 1).execute();
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return {
        items: page.map(toEvent),
        nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null,
      };
    },

    /** The newest `maxRows` entries matching the filters, in one query (the CSV export). */
    async export(partnerId: string, filters: AuditFilters, maxRows: number): Promise<AuditEvent[]> {
      const rows = await filtered(partnerId, filters).orderBy('at', 'desc').orderBy('id', 'desc').limit(maxRows).execute();
      return rows.map(toEvent);
    },
  };
}

function toEvent(row: AuditEventsTable): AuditEvent {
  return {
    id: row.id,
    at: row.at,
    actorEmail: row.actor_email,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    targetName: row.target_name,
    outcome: row.outcome,
    clientAddress: row.client_address,
    details: row.details ? (JSON.parse(row.details) as Record<string, unknown>) : null,
  };
}

const encodeCursor = (row: { at: string; id: string }) => Buffer.from(JSON.stringify([row.at, row.id])).toString('base64url');

function decodeCursor(cursor: string | undefined): { at: string; id: string } | null {
  if (!cursor) return null;
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof at === 'string' && typeof id === 'string') return { at, id };
  } catch {
    // fall through: an unreadable cursor is bad input
  }
  return null;
}
