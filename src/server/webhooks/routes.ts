import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { clientAddress, requireAuth } from '../http/context';
import { errorResponseSchema } from '../http/schemas';
import type { WebhookService } from './service';

const errors = { 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema, 409: errorResponseSchema };
const idParams = z.object({ id: z.string().min(1).max(100) });
const urlSchema = z.string().trim().min(1).max(2000).describe('https URL (sandbox mode also allows http to this machine)');
// The answer names every field it may carry: the sealed secret never leaves, and the secret only in POST's answer.
const webhookSchema = z.object({ id: z.string(), url: z.string(), enabled: z.boolean(), createdAt: z.string(), updatedAt: z.string() });
const createdSchema = webhookSchema.extend({ secret: z.string().describe('The signing secret, shown this once') });
const deliverySchema = z.object({
  id: z.string(),
  eventId: z.string(),
  eventType: z.string(),
  attempt: z.number().int(),
  statusCode: z.number().int().nullable().describe('The receiver’s answer; null when it did not answer'),
  error: z.string().nullable().describe('Why the attempt failed; null when delivered'),
  at: z.string(),
});

/** Webhooks of the partner: Administrators only, every object scoped to the signed-in partner. */
export function registerWebhookRoutes(app: FastifyInstance, deps: { webhooks: WebhookService }): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { webhooks } = deps;
  const admin = { access: 'admin' as const };
  const tags = ['Webhooks'];

  r.get('/api/webhooks', { config: admin, schema: { tags, summary: 'The partner’s webhooks (never their secrets)', response: { 200: z.object({ webhooks: z.array(webhookSchema) }), ...errors } } }, async (request) => ({
    webhooks: await webhooks.list(requireAuth(request)),
  }));

  r.post(
    '/api/webhooks',
    {
      config: admin,
      schema: { tags, summary: 'Adds a webhook; the answer carries its signing secret, shown once', body: z.object({ url: urlSchema, enabled: z.boolean().optional() }).strict(), response: { 201: createdSchema, ...errors } },
    },
    async (request, reply) => reply.code(201).send(await webhooks.create(requireAuth(request), request.body, clientAddress(request))),
  );

  r.patch(
    '/api/webhooks/:id',
    {
      config: admin,
      schema: { tags, summary: 'Changes a webhook’s URL or turns it on or off', params: idParams, body: z.object({ url: urlSchema.optional(), enabled: z.boolean().optional() }).strict(), response: { 200: webhookSchema, ...errors } },
    },
    async (request) => webhooks.update(requireAuth(request), request.params.id, request.body, clientAddress(request)),
  );

  r.delete('/api/webhooks/:id', { config: admin, schema: { tags, summary: 'Deletes a webhook and its delivery log', params: idParams, response: { 204: z.null(), ...errors } } }, async (request, reply) => {
    await webhooks.remove(requireAuth(request), request.params.id, clientAddress(request));
    return reply.code(204).send(null);
  });

  r.post(
    '/api/webhooks/:id/test',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Sends a signed test event now (once, not retried) and answers how the receiver took it',
        params: idParams,
        response: { 200: z.object({ eventId: z.string(), delivered: z.boolean(), statusCode: z.number().int().nullable(), error: z.string().nullable() }), ...errors },
      },
    },
    async (request) => webhooks.sendTest(requireAuth(request), request.params.id, clientAddress(request)),
  );

  r.get(
    '/api/webhooks/:id/deliveries',
    {
      config: admin,
      schema: {
        tags,
        summary: 'The webhook’s latest delivery attempts, newest first',
        params: idParams,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
        response: { 200: z.object({ deliveries: z.array(deliverySchema) }), ...errors },
      },
    },
    async (request) => ({ deliveries: await webhooks.deliveries(requireAuth(request), request.params.id, request.query.limit) }),
  );
}
