import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/store';
import type { AuthContext } from '../http/context';
import { BadRequestError } from '../http/errors';
import type { NotificationEvent, NotificationSeverity, NotificationType, Notify } from './events';
import type { NotificationListRow, NotificationRow, NotificationStore } from './store';

export interface NotificationView {
  id: string;
  type: NotificationType;
  severity: NotificationSeverity;
  title: string;
  message: string;
  fix: string | null;
  link: string | null;
  appProfileId: string | null;
  data: Record<string, unknown> | null;
  createdAt: string;
  read: boolean;
}

/** Another channel than the portal's list (email): handed each newly stored notification once. */
export interface NotificationChannel {
  deliver(row: NotificationRow): Promise<void>;
}

export interface NotificationServiceDeps {
  store: NotificationStore;
  audit: AuditLog;
  /** Channels besides the portal: email when the partner has it on, webhooks (each one on or off by itself). */
  channels?: { name: 'email' | 'webhooks'; channel: NotificationChannel }[];
  now?: () => Date;
  log?: (message: string, error: unknown) => void;
  /** A profile's last accepted refresh and status: a lapse warning is open only for the current refresh of an active profile. */
  profiles?: (partnerId: string, id: string) => Promise<{ token_used_at: string; status: string } | undefined>;
  /** Counts an alert shown in the portal (the metric of issue 11). */
  sent?: (channel: 'portal', type: string) => void;
}

export type NotificationService = ReturnType<typeof createNotificationService>;

const view = (row: NotificationListRow): NotificationView => ({
  id: row.id,
  type: row.type as NotificationType,
  severity: row.severity,
  title: row.title,
  message: row.message,
  fix: row.fix,
  link: row.link,
  appProfileId: row.app_profile_id,
  data: row.data ? (JSON.parse(row.data) as Record<string, unknown>) : null,
  createdAt: row.created_at,
  read: row.read_at !== null,
});

/** When the lapse a warning announces happens (its `data.lapsesAt`). */
const lapseAt = (row: NotificationRow): number => Date.parse(String((row.data ? (JSON.parse(row.data) as { lapsesAt?: string }) : {}).lapsesAt ?? ''));

const encodeCursor = (row: { created_at: string; id: string }) => Buffer.from(JSON.stringify([row.created_at, row.id])).toString('base64url');

function decodeCursor(cursor: string | undefined): { at: string; id: string } | null {
  if (!cursor) return null;
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof at === 'string' && typeof id === 'string') return { at, id };
  } catch {
    // an unreadable cursor is bad input
  }
  throw new BadRequestError('INVALID_CURSOR', 'The page cursor is not valid.', { field: 'cursor' });
}

/**
 * Alerts: stores each event once per partner under its idempotency key (a lasting condition once per
 * episode), shows it in the portal when that channel is on, and hands it to the other channels.
 */
export function createNotificationService(deps: NotificationServiceDeps) {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());

  /** The key the event is stored under, or null when its condition is already (or no longer) notified. */
  async function storedKey(event: NotificationEvent, at: string): Promise<string | null> {
    if (event.episode === 'open') {
      const episode = await store.openEpisode(event.partnerId, event.key, at);
      return episode === null ? null : `${event.key}:${episode}`;
    }
    if (event.episode === 'resolve') {
      const episode = await store.closeEpisode(event.partnerId, event.key, at);
      return episode === null ? null : `${event.key}:${episode}:resolved`;
    }
    return event.key;
  }

  async function record(event: NotificationEvent): Promise<void> {
    const at = now().toISOString();
    const key = await storedKey(event, at);
    if (!key) return;
    const settings = await store.settings(event.partnerId);
    const row: NotificationRow = {
      id: randomUUID(),
      partner_id: event.partnerId,
      key,
      type: event.type,
      severity: event.severity,
      app_profile_id: event.appProfileId ?? null,
      title: event.title,
      message: event.message,
      fix: event.fix ?? null,
      link: event.link ?? null,
      data: event.data ? JSON.stringify(event.data) : null,
      in_portal: settings.portal ? 1 : 0,
      created_at: at,
    };
    if (!(await store.insert(row))) return;
    if (row.in_portal === 1) deps.sent?.('portal', row.type);
    // Other channels deliver in the background: a slow mail server never holds up the check that raised the event.
    for (const { name, channel } of deps.channels ?? []) {
      if (name === 'email' && !settings.email) continue;
      void channel.deliver(row).catch((error: unknown) => deps.log?.(`notification could not be delivered by ${name}`, error));
    }
  }

  const notify: Notify = async (event) => {
    try {
      await record(event);
    } catch (error) {
      deps.log?.('notification could not be recorded', error);
    }
  };

  return {
    notify,

    /** Forgets notifications older than `before` (the retention job). */
    trimOlderThan: (before: Date) => store.deleteBefore(before.toISOString()),

    async list(auth: AuthContext, query: { unread?: boolean; limit: number; cursor?: string }) {
      const rows = await store.list(auth.partner.id, auth.user.id, { unread: query.unread, limit: query.limit + 1, after: decodeCursor(query.cursor) });
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return {
        items: page.map(view),
        unread: await store.unreadCount(auth.partner.id, auth.user.id),
        nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null,
      };
    },

    /** The profile's open (unresolved) alerts for a banner on its page: the conditions still open and the lapse warning still due. */
    async openForProfile(auth: AuthContext, appProfileId: string): Promise<NotificationView[]> {
      const profile = await deps.profiles?.(auth.partner.id, appProfileId);
      if (!profile) return [];
      const rows = await store.openForProfile(auth.partner.id, auth.user.id, appProfileId);
      const lapse = rows.find((row) => row.type === 'refresh_lapse_warning');
      const lapseOpen = lapse && profile.status === 'active' && lapse.key.endsWith(`:${profile.token_used_at}`) && lapseAt(lapse) > now().getTime();
      return rows.filter((row) => row.type !== 'refresh_lapse_warning' || (lapseOpen && row === lapse)).map(view);
    },

    unreadCount: (auth: AuthContext) => store.unreadCount(auth.partner.id, auth.user.id),

    markRead: (auth: AuthContext, ids: string[]) => store.markRead(auth.partner.id, auth.user.id, ids, now().toISOString()),

    async settings(auth: AuthContext) {
      const channels = await store.settings(auth.partner.id);
      const optedOut = await store.emailOptedOut(auth.partner.id, [auth.user.id]);
      return { channels, emailOptOut: optedOut.has(auth.user.id) };
    },

    async saveSettings(auth: AuthContext, input: { channels?: Partial<{ portal: boolean; email: boolean }>; emailOptOut?: boolean }, clientAddress: string) {
      const at = now().toISOString();
      if (input.channels) await store.saveSettings(auth.partner.id, { ...(await store.settings(auth.partner.id)), ...input.channels }, at);
      if (input.emailOptOut !== undefined) await store.setEmailOptOut(auth.partner.id, auth.user.id, input.emailOptOut, at);
      await deps.audit.record({
        partnerId: auth.partner.id,
        actor: { userId: auth.user.id, email: auth.user.email },
        action: 'notification_settings.update',
        target: { type: 'partner', id: auth.partner.id, name: auth.partner.name },
        outcome: 'success',
        clientAddress,
        details: { ...input },
      });
    },
  };
}
