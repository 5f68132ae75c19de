import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { clientAddress, requireAuth } from '../http/context';
import { BadRequestError } from '../http/errors';
import { errorResponseSchema } from '../http/schemas';
import { NOTIFICATION_SEVERITIES, NOTIFICATION_TYPES } from './events';
import type { NotificationService } from './service';

const errors = { 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema };
const notificationSchema = z.object({
  id: z.string(),
  type: z.enum(NOTIFICATION_TYPES),
  severity: z.enum(NOTIFICATION_SEVERITIES),
  title: z.string(),
  message: z.string(),
  fix: z.string().nullable(),
  link: z.string().nullable().describe('Portal path of the affected page'),
  appProfileId: z.string().nullable(),
  data: z.record(z.string(), z.unknown()).nullable(),
  createdAt: z.string(),
  read: z.boolean().describe('Read by the signed-in person'),
});
const channelsSchema = z.object({ portal: z.boolean().describe('The bell and list in the portal'), email: z.boolean().describe('Email to the partner’s administrators (when SMTP is configured)') });
const settingsSchema = z.object({ channels: channelsSchema, emailOptOut: z.boolean().describe('The signed-in person gets no alert emails') });
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

/** Alerts in the portal: the partner's notifications with each person's read state, and the channel settings. */
export function registerNotificationRoutes(app: FastifyInstance, deps: { notifications: NotificationService }): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { notifications } = deps;
  const tags = ['Notifications'];

  r.get(
    '/api/notifications',
    {
      config: { access: 'user' },
      schema: {
        tags,
        summary: 'The partner’s notifications, newest first, with the signed-in person’s unread count',
        querystring: z.object({
          unread: optional(z.enum(['true', 'false']).describe('Only those the signed-in person has not read')),
          limit: z.coerce.number().int().min(1).max(200).default(50),
          cursor: optional(z.string().max(200)),
          appProfileId: optional(z.string().min(1).max(100).describe('With open=true: this app profile’s alerts only')),
          open: optional(z.enum(['true', 'false']).describe('With appProfileId: only the alerts whose condition is not resolved yet (expired, lapse warning still due, permission drift, checks, sync or a group download failing), not paged')),
        }),
        response: { 200: z.object({ items: z.array(notificationSchema), unread: z.number().int(), nextCursor: z.string().nullable() }), ...errors },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      const { query } = request;
      if (query.open === 'true' || query.appProfileId) {
        if (!(query.open === 'true' && query.appProfileId)) throw new BadRequestError('OPEN_NEEDS_PROFILE', 'open=true and appProfileId go together.', { field: query.appProfileId ? 'open' : 'appProfileId' });
        const items = await notifications.openForProfile(auth, query.appProfileId);
        return { items, unread: await notifications.unreadCount(auth), nextCursor: null };
      }
      return notifications.list(auth, { unread: query.unread === 'true', limit: query.limit, cursor: query.cursor });
    },
  );

  r.post(
    '/api/notifications/read',
    {
      config: { access: 'user' },
      schema: { tags, summary: 'Marks notifications as read by the signed-in person', body: z.object({ ids: z.array(z.string().min(1).max(100)).min(1).max(500) }).strict(), response: { 204: z.null(), ...errors } },
    },
    async (request, reply) => {
      await notifications.markRead(requireAuth(request), request.body.ids);
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/api/notification-settings',
    { config: { access: 'user' }, schema: { tags, summary: 'The partner’s alert channels and the signed-in person’s email opt-out', response: { 200: settingsSchema, ...errors } } },
    async (request) => notifications.settings(requireAuth(request)),
  );

  r.put(
    '/api/notification-settings',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Turns alert channels on or off for the partner, and alert emails for the signed-in Administrator',
        body: z.object({ channels: channelsSchema.partial().strict().optional(), emailOptOut: z.boolean().optional() }).strict(),
        response: { 200: settingsSchema, ...errors },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      await notifications.saveSettings(auth, request.body, clientAddress(request));
      return notifications.settings(auth);
    },
  );
}
