import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireAuth } from '../http/context';
import { errorResponseSchema } from '../http/schemas';
import type { AuditLog } from './store';

const eventSchema = z.object({
  id: z.string(),
  at: z.string(),
  actorEmail: z.string().nullable(),
  action: z.string(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  targetName: z.string().nullable(),
  outcome: z.enum(['success', 'failure']),
  clientAddress: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
});

export function registerAuditRoutes(app: FastifyInstance, deps: { audit: AuditLog }) {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/audit',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['Audit'],
        summary: "The partner's audit log, newest first",
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(200).default(50),
          cursor: z.string().max(200).optional(),
          action: z.string().max(100).optional(),
          outcome: z.enum(['success', 'failure']).optional(),
          actor: z.string().max(254).optional(),
        }),
        response: { 200: z.object({ items: z.array(eventSchema), nextCursor: z.string().nullable() }), 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema },
      },
    },
    async (request) => deps.audit.list(requireAuth(request).partner.id, request.query),
  );
}
