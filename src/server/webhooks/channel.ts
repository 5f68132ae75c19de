import { randomUUID } from 'node:crypto';
import type { JobQueue } from '../jobs/queue';
import { PermanentJobError, type QueueWorker } from '../jobs/worker';
import type { NotificationChannel } from '../notifications/service';
import type { NotificationRow } from '../notifications/store';
import type { SecretBox } from '../security/secret-box';
import type { Resolver, WebhookPolicy } from './address-policy';
import { postWebhook, type WebhookAttempt } from './delivery';
import type { WebhookRow, WebhookStore } from './store';

/** The queue's job kind of one event for one webhook. */
export const WEBHOOK_JOB = 'webhook-delivery';
/** An event is retried with the queue's backoff (capped at 30 minutes) for this long after it happened. */
export const WEBHOOK_RETRY_WINDOW_MS = 24 * 3600_000;
/** Enough attempts for the 24 hours even at the shortest jittered waits; the window ends the retries first. */
const WEBHOOK_ATTEMPTS = 200;

/** The JSON body a receiver gets. */
export interface WebhookEvent {
  id: string;
  type: string;
  occurredAt: string;
  partnerId: string;
  appProfile: { id: string; name: string; tenantId: string } | null;
  data: Record<string, unknown>;
}

interface WebhookJobPayload {
  webhookId: string;
  eventId: string;
  eventType: string;
  /** The exact body, so every attempt sends the same bytes (only the signature's time changes). */
  body: string;
  firstAt: string;
}

/** A notification as the webhook event a receiver gets: the affected app profile apart, the words in `data`. */
export function webhookEvent(row: NotificationRow): WebhookEvent {
  const { appProfile, ...details } = (row.data ? JSON.parse(row.data) : {}) as { appProfile?: WebhookEvent['appProfile'] } & Record<string, unknown>;
  return {
    id: row.id,
    type: row.type,
    occurredAt: row.created_at,
    partnerId: row.partner_id,
    appProfile: appProfile ? { id: appProfile.id, name: appProfile.name, tenantId: appProfile.tenantId } : null,
    data: { severity: row.severity, title: row.title, message: row.message, fix: row.fix, link: row.link, ...details },
  };
}

/** The associated data the webhook's secret is sealed with: a sealed secret copied to another row does not open. */
export const webhookSecretAad = (webhookId: string) => `webhook-secret:${webhookId}`;

export interface WebhookSenderDeps {
  store: Pick<WebhookStore, 'byId' | 'enabled' | 'addDelivery'>;
  box: Pick<SecretBox, 'open'>;
  jobs: { queue: Pick<JobQueue, 'enqueue'>; worker: Pick<QueueWorker, 'handle' | 'runJob'> };
  policy: WebhookPolicy;
  /** Name resolution (the system's by default). */
  resolve?: Resolver;
  now?: () => Date;
  /** Counts each event a receiver took (2xx), not test events (the metric of issue 11). */
  sent?: (channel: 'webhook', type: string) => void;
}

/**
 * Webhooks as a notification channel: each (event, enabled webhook) is one job of the durable queue, keyed so
 * it is enqueued once however many instances see the event; each attempt is logged with its status code or
 * error, and a failed one is retried with the queue's backoff for 24 hours after the event.
 */
export function createWebhookSender(deps: WebhookSenderDeps) {
  const now = deps.now ?? (() => new Date());

  /** One signed POST of `body` to the webhook, logged as attempt `attempt` of the event. */
  async function attempt(hook: WebhookRow, event: { id: string; type: string }, body: string, attemptNo: number): Promise<WebhookAttempt> {
    const secret = deps.box.open(hook.secret_sealed, webhookSecretAad(hook.id));
    const result = await postWebhook({ url: hook.url, secret }, body, { policy: deps.policy, resolve: deps.resolve, now });
    await deps.store.addDelivery({ id: randomUUID(), webhook_id: hook.id, partner_id: hook.partner_id, event_id: event.id, event_type: event.type, attempt: attemptNo, status_code: result.statusCode, error: result.error, at: now().toISOString() });
    return result;
  }

  deps.jobs.worker.handle<WebhookJobPayload, never>(WEBHOOK_JOB, async (job) => {
    const hook = await deps.store.byId(job.payload.webhookId);
    if (!hook || hook.enabled !== 1) return; // deleted or turned off since: nothing to deliver
    const result = await attempt(hook, { id: job.payload.eventId, type: job.payload.eventType }, job.payload.body, job.attempts);
    if (result.error === null) {
      deps.sent?.('webhook', job.payload.eventType);
      return;
    }
    const givenUp = now().getTime() - Date.parse(job.payload.firstAt) >= WEBHOOK_RETRY_WINDOW_MS;
    throw givenUp ? new PermanentJobError(`${result.error} Retried for 24 hours; given up.`) : new Error(result.error);
  });

  const channel: NotificationChannel = {
    async deliver(row) {
      const hooks = await deps.store.enabled(row.partner_id);
      if (hooks.length === 0) return;
      const body = JSON.stringify(webhookEvent(row));
      const ids: string[] = [];
      for (const hook of hooks) {
        const payload: WebhookJobPayload = { webhookId: hook.id, eventId: row.id, eventType: row.type, body, firstAt: row.created_at };
        const { id } = await deps.jobs.queue.enqueue({ kind: WEBHOOK_JOB, key: `${WEBHOOK_JOB}:${row.id}:${hook.id}`, partnerId: row.partner_id, payload, maxAttempts: WEBHOOK_ATTEMPTS });
        ids.push(id);
      }
      // Tried at once; a receiver that is down gets the event from the queue's retries.
      await Promise.all(ids.map((id) => deps.jobs.worker.runJob(id)));
    },
  };

  return { channel, attempt };
}

export type WebhookSender = ReturnType<typeof createWebhookSender>;
