import { randomBytes, randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/store';
import type { AuthContext } from '../http/context';
import { ConflictError, FieldError, NotFoundError } from '../http/errors';
import type { SecretBox } from '../security/secret-box';
import { checkUrlShape, resolveWebhookHost, WebhookUrlError, type Resolver, type WebhookPolicy } from './address-policy';
import { webhookSecretAad, type WebhookEvent, type WebhookSender } from './channel';
import type { WebhookDeliveryRow, WebhookRow, WebhookStore } from './store';

/** A partner may have this many webhooks. */
export const MAX_WEBHOOKS = 10;

export interface WebhookView {
  id: string;
  url: string;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

const view = (row: WebhookRow): WebhookView => ({ id: row.id, url: row.url, enabled: row.enabled === 1, createdAt: row.created_at, updatedAt: row.updated_at });

const deliveryView = (row: WebhookDeliveryRow) => ({ id: row.id, eventId: row.event_id, eventType: row.event_type, attempt: row.attempt, statusCode: row.status_code, error: row.error, at: row.at });

export interface WebhookServiceDeps {
  store: WebhookStore;
  box: Pick<SecretBox, 'seal'>;
  audit: AuditLog;
  sender: Pick<WebhookSender, 'attempt'>;
  policy: WebhookPolicy;
  resolve?: Resolver;
  now?: () => Date;
}

export type WebhookService = ReturnType<typeof createWebhookService>;

/** The partner's webhooks: add (the secret shown once), change, delete, send a test event, read the delivery log. */
export function createWebhookService(deps: WebhookServiceDeps) {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());

  /** A URL the webhook may have (also checked again at every delivery); a field error in words otherwise. */
  async function checkedUrl(raw: string): Promise<string> {
    try {
      const url = checkUrlShape(raw, deps.policy);
      await resolveWebhookHost(url, deps.policy, deps.resolve);
      return url.toString();
    } catch (error) {
      if (error instanceof WebhookUrlError) throw new FieldError('url', error.message, 'WEBHOOK_URL_REFUSED');
      throw error;
    }
  }

  async function own(auth: AuthContext, id: string): Promise<WebhookRow> {
    const row = await store.get(auth.partner.id, id);
    if (!row) throw new NotFoundError('The webhook');
    return row;
  }

  const audit = (auth: AuthContext, action: 'webhook.create' | 'webhook.update' | 'webhook.delete' | 'webhook.test', row: WebhookRow, clientAddress: string, details?: Record<string, unknown>) =>
    deps.audit.record({ partnerId: auth.partner.id, actor: { userId: auth.user.id, email: auth.user.email }, action, target: { type: 'webhook', id: row.id, name: row.url }, outcome: 'success', clientAddress, details });

  return {
    list: async (auth: AuthContext) => (await store.list(auth.partner.id)).map(view),

    /** Adds a webhook; the answer carries its signing secret, the only time it leaves the portal. */
    async create(auth: AuthContext, input: { url: string; enabled?: boolean }, clientAddress: string): Promise<WebhookView & { secret: string }> {
      if ((await store.count(auth.partner.id)) >= MAX_WEBHOOKS) throw new ConflictError('WEBHOOK_LIMIT', `A partner can have up to ${MAX_WEBHOOKS} webhooks. Delete one first.`);
      const url = await checkedUrl(input.url);
      const id = randomUUID();
      const secret = `whsec_${randomBytes(32).toString('base64url')}`;
      const at = now().toISOString();
      const row: WebhookRow = { id, partner_id: auth.partner.id, url, secret_sealed: deps.box.seal(secret, webhookSecretAad(id)), enabled: input.enabled === false ? 0 : 1, created_at: at, updated_at: at };
      await store.insert(row);
      await audit(auth, 'webhook.create', row, clientAddress);
      return { ...view(row), secret };
    },

    async update(auth: AuthContext, id: string, input: { url?: string; enabled?: boolean }, clientAddress: string): Promise<WebhookView> {
      const row = await own(auth, id);
      const changes: Partial<Pick<WebhookRow, 'url' | 'enabled'>> = {};
      if (input.url !== undefined) changes.url = await checkedUrl(input.url);
      if (input.enabled !== undefined) changes.enabled = input.enabled ? 1 : 0;
      await store.update(auth.partner.id, id, changes, now().toISOString());
      await audit(auth, 'webhook.update', row, clientAddress, { ...input });
      return view((await store.get(auth.partner.id, id))!);
    },

    async remove(auth: AuthContext, id: string, clientAddress: string): Promise<void> {
      const row = await own(auth, id);
      if (!(await store.remove(auth.partner.id, id))) throw new NotFoundError('The webhook');
      await audit(auth, 'webhook.delete', row, clientAddress);
    },

    /** Sends a signed test event once, now (not retried), and answers how the receiver took it. */
    async sendTest(auth: AuthContext, id: string, clientAddress: string) {
      const row = await own(auth, id);
      const event: WebhookEvent = {
        id: randomUUID(),
        type: 'test',
        occurredAt: now().toISOString(),
        partnerId: auth.partner.id,
        appProfile: null,
        data: { title: 'Test event', message: `A test event sent by ${auth.user.email} from Settings > Alerts.` },
      };
      const result = await deps.sender.attempt(row, event, JSON.stringify(event), 1);
      await audit(auth, 'webhook.test', row, clientAddress, { statusCode: result.statusCode, delivered: result.error === null });
      return { eventId: event.id, delivered: result.error === null, statusCode: result.statusCode, error: result.error };
    },

    /** Forgets delivery records older than `before` (the retention job). */
    trimDeliveries: (before: Date) => store.deleteDeliveriesBefore(before.toISOString()),

    async deliveries(auth: AuthContext, id: string, limit: number) {
      await own(auth, id);
      return (await store.deliveries(auth.partner.id, id, limit)).map(deliveryView);
    },
  };
}
